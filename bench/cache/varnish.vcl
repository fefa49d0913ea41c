# bench/cache.sh: Varnish's configuration, the backend alone. Everything else is Varnish's
# builtin VCL (its default caching: GET and HEAD without Authorization or Cookie are looked
# up, cacheable responses are stored), with the TTL set on the command line (-t 60, the
# default-ttl of edgefn's behavior). ORIGIN_PORT is replaced by the script.
vcl 4.1;

backend origin {
    .host = "127.0.0.1";
    .port = "ORIGIN_PORT";
}
