#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "server/log.h"

size_t ef_log_timestamp(char *buf)
{
    /* the date and time to the second, formatted once a second per thread; the milliseconds every time */
    static __thread time_t cached_sec = -1;
    static __thread char cached[80];
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&now.tv_sec, &tm);
        snprintf(cached, sizeof(cached), "%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec);
        cached_sec = now.tv_sec;
    }
    memcpy(buf, cached, 20);
    long ms = now.tv_nsec / 1000000;
    buf[20] = '0' + ms / 100;
    buf[21] = '0' + ms / 10 % 10;
    buf[22] = '0' + ms % 10;
    buf[23] = 'Z';
    buf[24] = '\0';
    return 24;
}

void ef_log(ef_log_level_t level, const char *fmt, ...)
{
    static const char *names[] = {"error", "warn", "info"};
    char line[2048];
    size_t len;
    va_list args;

    len = ef_log_timestamp(line);
    len += (size_t)snprintf(line + len, sizeof(line) - len, " [%s] ", names[level]);
    va_start(args, fmt);
    int n = vsnprintf(line + len, sizeof(line) - len - 1, fmt, args);
    va_end(args);
    /* an overlong message is cut, but the line still ends */
    len += n < 0 ? 0 : (size_t)n < sizeof(line) - len - 1 ? (size_t)n : sizeof(line) - len - 2;
    line[len++] = '\n';
    while (write(STDERR_FILENO, line, len) == -1 && errno == EINTR)
        ;
}

size_t ef_format_uint(char *buf, uint64_t v)
{
    char digits[20];
    size_t n = 0, len;

    do
        digits[n++] = '0' + v % 10;
    while ((v /= 10) != 0);
    for (len = 0; n != 0; ++len)
        buf[len] = digits[--n];
    return len;
}
