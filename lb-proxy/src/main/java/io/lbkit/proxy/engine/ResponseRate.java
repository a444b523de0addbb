package io.lbkit.proxy.engine;

import io.lbkit.proxy.Route;

/**
 * nginx's {@code limit_rate} / {@code limit_rate_after} arithmetic for one response (the write
 * filter's, {@code ngx_http_write_filter}): before a send, the bytes allowed so far are
 * {@code rate * (seconds since the start + 1) - (sent - after)}; at or below zero the sender waits
 * {@code -allowed * 1000 / rate + 1} ms. After a send of {@code n} bytes past {@code after} it
 * waits {@code n * 1000 / rate} ms. Seconds are whole, as nginx's {@code ngx_time()}. An engine
 * keeps one per limited response on the response's own thread or loop and waits on a timer,
 * never a blocked thread. Not thread-safe.
 */
public final class ResponseRate {

    private final long rate;
    private final long after;
    private final long startSec;
    private long sent;

    private ResponseRate(long rate, long after, long startMillis) {
        this.rate = rate;
        this.after = after;
        this.startSec = Math.floorDiv(startMillis, 1000);
    }

    /** The pace of a response on {@code route} that started at {@code nowMillis}; null when the route has no {@code limitRate}. */
    public static ResponseRate start(Route route, long nowMillis) {
        return route.limitRate() <= 0 ? null : new ResponseRate(route.limitRate(), route.limitRateAfter(), nowMillis);
    }

    /** How long to wait before the next send at {@code nowMillis} (0: send now). */
    public long waitMillis(long nowMillis) {
        long allowed = rate * (Math.floorDiv(nowMillis, 1000) - startSec + 1) - (sent - after);
        return allowed > 0 ? 0 : -allowed * 1000 / rate + 1;
    }

    /** Accounts {@code bytes} just sent; returns how long to wait before the next send. */
    public long sent(long bytes) {
        long before = Math.max(0, sent - after);
        sent += bytes;
        long now = Math.max(0, sent - after);
        return (now - before) * 1000 / rate;
    }

    /** The body bytes accounted so far. */
    public long sentBytes() {
        return sent;
    }
}
