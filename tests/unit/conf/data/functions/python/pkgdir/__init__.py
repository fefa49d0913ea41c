def handler(event, context):
    return event["Records"][0]["cf"]["request"]
