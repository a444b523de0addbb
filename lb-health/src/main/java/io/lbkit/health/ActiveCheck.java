package io.lbkit.health;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of an active check: what to probe ({@link HttpCheck} or {@link TcpCheck}) and when,
 * with HAProxy's names and defaults.
 *
 * <table>
 * <caption>Settings</caption>
 * <tr><th>setting</th><th>default</th><th>HAProxy</th></tr>
 * <tr><td>interval</td><td>2 s</td><td>{@code inter}</td></tr>
 * <tr><td>fastInterval</td><td>= interval</td><td>{@code fastinter}: while going up, going down, or not yet checked</td></tr>
 * <tr><td>downInterval</td><td>= interval</td><td>{@code downinter}: while fully down</td></tr>
 * <tr><td>timeout</td><td>1 s</td><td>{@code timeout check} (HAProxy falls back to {@code inter})</td></tr>
 * <tr><td>rise</td><td>2</td><td>{@code rise}</td></tr>
 * <tr><td>fall</td><td>3</td><td>{@code fall}</td></tr>
 * <tr><td>jitterPercent</td><td>5</td><td>{@code spread-checks} (HAProxy default 0, 2-5 suggested)</td></tr>
 * <tr><td>initialState</td><td>{@link InitialState#CHECKING}</td><td>{@code init-state fully-down} (HAProxy default is {@code up})</td></tr>
 * <tr><td>port</td><td>0 = the endpoint's port</td><td>{@code port}</td></tr>
 * <tr><td>probe</td><td>{@link TcpCheck#connect()}</td><td>plain {@code check}</td></tr>
 * </table>
 */
public final class ActiveCheck {

    private static final ActiveCheck DEFAULTS = builder().build();

    private final Duration interval;
    private final Duration fastInterval;
    private final Duration downInterval;
    private final Duration timeout;
    private final int rise;
    private final int fall;
    private final int jitterPercent;
    private final InitialState initialState;
    private final int port;
    private final ProbeSpec probe;

    private ActiveCheck(Builder b) {
        this.interval = b.interval;
        this.fastInterval = b.fastInterval != null ? b.fastInterval : b.interval;
        this.downInterval = b.downInterval != null ? b.downInterval : b.interval;
        this.timeout = b.timeout;
        this.rise = b.rise;
        this.fall = b.fall;
        this.jitterPercent = b.jitterPercent;
        this.initialState = b.initialState;
        this.port = b.port;
        this.probe = b.probe;
    }

    /** A builder with the defaults listed above. */
    public static Builder builder() {
        return new Builder();
    }

    /** A TCP connect check with all defaults. */
    public static ActiveCheck defaults() {
        return DEFAULTS;
    }

    /** An HTTP check with the given probe and default timing. */
    public static ActiveCheck http(HttpCheck http) {
        return builder().http(http).build();
    }

    public Duration interval() { return interval; }
    public Duration fastInterval() { return fastInterval; }
    public Duration downInterval() { return downInterval; }
    public Duration timeout() { return timeout; }
    public int rise() { return rise; }
    public int fall() { return fall; }
    public int jitterPercent() { return jitterPercent; }
    public InitialState initialState() { return initialState; }
    /** The port probed, 0 meaning the endpoint's own port. */
    public int port() { return port; }
    public ProbeSpec probe() { return probe; }

    /** A builder pre-filled with these settings. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.interval = interval;
        b.fastInterval = fastInterval;
        b.downInterval = downInterval;
        b.timeout = timeout;
        b.rise = rise;
        b.fall = fall;
        b.jitterPercent = jitterPercent;
        b.initialState = initialState;
        b.port = port;
        b.probe = probe;
        return b;
    }

    /**
     * The un-jittered delay before the next probe for an endpoint in {@code state}: {@code fastInterval}
     * while not yet checked or transitioning, {@code downInterval} while fully down, else {@code interval}.
     */
    long baseDelayNanos(RiseFall state) {
        if (!state.checked()) {
            return fastInterval.toNanos();
        }
        if (state.healthy()) {
            return state.failures() > 0 ? fastInterval.toNanos() : interval.toNanos();
        }
        return state.passes() > 0 ? fastInterval.toNanos() : downInterval.toNanos();
    }

    /**
     * The delay before the next probe: the base delay spread by ±{@code jitterPercent}%;
     * {@code u} is a uniform random number in [0, 1).
     */
    long nextDelayNanos(RiseFall state, double u) {
        return jitter(baseDelayNanos(state), u);
    }

    long jitter(long base, double u) {
        double factor = 1.0 + (jitterPercent / 100.0) * (2.0 * u - 1.0);
        return Math.max(1_000_000L, (long) (base * factor));
    }

    /** The delay before an endpoint's first probe: uniform in [0, fastInterval), to spread start-up load. */
    long firstDelayNanos(double u) {
        return (long) (fastInterval.toNanos() * u);
    }

    @Override
    public String toString() {
        return "ActiveCheck[" + probe + ", interval=" + interval + ", fastInterval=" + fastInterval
                + ", downInterval=" + downInterval + ", timeout=" + timeout + ", rise=" + rise + ", fall=" + fall
                + ", jitter=" + jitterPercent + "%, initial=" + initialState + (port != 0 ? ", port=" + port : "") + "]";
    }

    /** Builder for {@link ActiveCheck}; validated in {@link #build()}. */
    public static final class Builder {
        private Duration interval = Duration.ofSeconds(2);
        private Duration fastInterval;
        private Duration downInterval;
        private Duration timeout = Duration.ofSeconds(1);
        private int rise = 2;
        private int fall = 3;
        private int jitterPercent = 5;
        private InitialState initialState = InitialState.CHECKING;
        private int port;
        private ProbeSpec probe = TcpCheck.connect();

        private Builder() {
        }

        /** Interval between probes while stable (HAProxy {@code inter}), default 2 s. */
        public Builder interval(Duration interval) { this.interval = Objects.requireNonNull(interval, "interval"); return this; }
        /** Interval while transitioning or not yet checked (HAProxy {@code fastinter}), default = interval. */
        public Builder fastInterval(Duration fastInterval) { this.fastInterval = Objects.requireNonNull(fastInterval, "fastInterval"); return this; }
        /** Interval while fully down (HAProxy {@code downinter}), default = interval. */
        public Builder downInterval(Duration downInterval) { this.downInterval = Objects.requireNonNull(downInterval, "downInterval"); return this; }
        /** Whole-probe timeout, connect included (HAProxy {@code timeout check}), default 1 s. */
        public Builder timeout(Duration timeout) { this.timeout = Objects.requireNonNull(timeout, "timeout"); return this; }
        /** Consecutive passes that make an unhealthy endpoint healthy, default 2. */
        public Builder rise(int rise) { this.rise = rise; return this; }
        /** Consecutive failures that make a healthy endpoint unhealthy, default 3. */
        public Builder fall(int fall) { this.fall = fall; return this; }
        /** Random spread of each interval, ±0..50 %, default 5 (HAProxy {@code spread-checks}). */
        public Builder jitterPercent(int percent) { this.jitterPercent = percent; return this; }
        /** The view before the first probe, default {@link InitialState#CHECKING}. */
        public Builder initialState(InitialState state) { this.initialState = Objects.requireNonNull(state, "initialState"); return this; }
        /** Probe this port instead of the endpoint's (HAProxy/nginx Plus {@code port}); 0 = the endpoint's. */
        public Builder port(int port) { this.port = port; return this; }
        /** Probe with HTTP. */
        public Builder http(HttpCheck http) { this.probe = Objects.requireNonNull(http, "http"); return this; }
        /** Probe with TCP. */
        public Builder tcp(TcpCheck tcp) { this.probe = Objects.requireNonNull(tcp, "tcp"); return this; }
        /** Probe with the given spec. */
        public Builder probe(ProbeSpec probe) { this.probe = Objects.requireNonNull(probe, "probe"); return this; }

        public ActiveCheck build() {
            positive("interval", interval);
            if (fastInterval != null) {
                positive("fastInterval", fastInterval);
            }
            if (downInterval != null) {
                positive("downInterval", downInterval);
            }
            positive("timeout", timeout);
            if (rise < 1) {
                throw new IllegalArgumentException("rise must be >= 1, got " + rise);
            }
            if (fall < 1) {
                throw new IllegalArgumentException("fall must be >= 1, got " + fall);
            }
            if (jitterPercent < 0 || jitterPercent > 50) {
                throw new IllegalArgumentException("jitterPercent must be 0..50, got " + jitterPercent);
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0..65535, got " + port);
            }
            return new ActiveCheck(this);
        }

        private static void positive(String name, Duration d) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be > 0, got " + d);
            }
            if (d.toMillis() < 1) {
                throw new IllegalArgumentException(name + " must be >= 1 ms, got " + d);
            }
            if (d.compareTo(Duration.ofDays(1)) > 0) {
                throw new IllegalArgumentException(name + " must be <= 1 day, got " + d);
            }
        }
    }
}
