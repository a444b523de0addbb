package io.lbkit.core.limit;

/**
 * A request rate as nginx's {@code limit_req_zone ... rate=} parameter writes it: a whole number
 * of requests per second ({@code 10r/s}) or per minute ({@code 30r/m}).
 *
 * <p>Internally nginx keeps the rate as an integer in thousandths of a request per second,
 * {@code requests * 1000 / scale} with scale 1 for {@code r/s} and 60 for {@code r/m}, truncated.
 * {@link #milliRequestsPerSecond()} is that integer, and all of {@link RateLimiter}'s arithmetic
 * uses it, so a per-minute rate is truncated exactly as in nginx: {@code 1r/m} becomes 16
 * thousandths per second, i.e. one request every 62.5 s rather than every 60 s.
 *
 * <p>Instances are immutable values; {@link #toString()} gives back the nginx form.
 */
public final class Rate {

    /** The largest request count accepted, per second or per minute. */
    public static final long MAX_REQUESTS = Integer.MAX_VALUE;

    private final long requests;
    private final boolean perMinute;

    private Rate(long requests, boolean perMinute, String text) {
        if (requests <= 0) {
            throw new IllegalArgumentException(
                    text == null ? "rate must be > 0, got " + requests
                                 : "bad rate '" + text + "': rate must be > 0, got " + requests);
        }
        if (requests > MAX_REQUESTS) {
            throw new IllegalArgumentException(
                    (text == null ? "" : "bad rate '" + text + "': ")
                    + "rate must be <= " + MAX_REQUESTS + ", got " + requests);
        }
        this.requests = requests;
        this.perMinute = perMinute;
    }

    /** {@code requests} per second, like {@code rate=10r/s}. */
    public static Rate perSecond(long requests) {
        return new Rate(requests, false, null);
    }

    /** {@code requests} per minute, like {@code rate=30r/m}. */
    public static Rate perMinute(long requests) {
        return new Rate(requests, true, null);
    }

    /**
     * Parses nginx's form: {@code <n>r/s}, {@code <n>r/m}, or a bare {@code <n>} which nginx reads
     * as requests per second. {@code n} is a whole decimal number &gt; 0 without sign, spaces or
     * fraction ({@code 1.5r/s} is rejected, as in nginx; write {@code 90r/m}).
     *
     * @throws IllegalArgumentException naming the bad text, e.g. {@code bad rate '10r/h': ...}
     */
    public static Rate parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("rate must not be null");
        }
        boolean perMinute = false;
        int end = text.length();
        if (text.endsWith("r/s")) {
            end -= 3;
        } else if (text.endsWith("r/m")) {
            perMinute = true;
            end -= 3;
        }
        if (end == 0) {
            throw new IllegalArgumentException("bad rate '" + text
                    + "': expected <n>r/s or <n>r/m with a whole number n > 0");
        }
        long n = 0;
        for (int i = 0; i < end; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                throw new IllegalArgumentException("bad rate '" + text
                        + "': expected <n>r/s or <n>r/m with a whole number n > 0");
            }
            n = n * 10 + (c - '0');
            if (n > MAX_REQUESTS) {
                throw new IllegalArgumentException("bad rate '" + text + "': rate must be <= "
                        + MAX_REQUESTS + ", got " + text.substring(0, end));
            }
        }
        return new Rate(n, perMinute, text);
    }

    /** The request count of the rate, per second or per minute as {@link #isPerMinute()} says. */
    public long requests() {
        return requests;
    }

    /** True for a {@code r/m} rate, false for {@code r/s}. */
    public boolean isPerMinute() {
        return perMinute;
    }

    /**
     * nginx's internal integer: thousandths of a request per second,
     * {@code requests * 1000 / (perMinute ? 60 : 1)}, truncated. Always &gt; 0.
     */
    public long milliRequestsPerSecond() {
        return requests * 1000L / (perMinute ? 60 : 1);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Rate && ((Rate) o).requests == requests && ((Rate) o).perMinute == perMinute;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(requests) * 31 + (perMinute ? 1 : 0);
    }

    /** The nginx form, e.g. {@code 10r/s} or {@code 30r/m}. */
    @Override
    public String toString() {
        return requests + (perMinute ? "r/m" : "r/s");
    }
}
