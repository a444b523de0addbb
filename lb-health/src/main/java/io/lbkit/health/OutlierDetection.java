package io.lbkit.health;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of Envoy-style outlier detection (passive ejection), with Envoy's defaults
 * ({@code envoy.config.cluster.v3.OutlierDetection}). Build one with {@link #builder()}; every
 * value is validated in {@link Builder#build()} and a bad one is named in the exception message.
 *
 * <p>How outcomes are classified (as Envoy does without {@code split_external_local_origin_errors}):
 * a response with status 500..599 is a "5xx"; 502, 503 and 504 are also "gateway failures". A
 * connection failure or a reset counts as a 503, a timeout as a 504, an invalid response as a 502;
 * a cancelled attempt is ignored. Everything else is a success.
 *
 * @param enabled                          false turns outlier detection off entirely
 * @param consecutive5xx                   5xx in a row that eject at once (Envoy 5)
 * @param consecutiveGatewayFailure        gateway failures in a row that eject at once (Envoy 5)
 * @param interval                         time between sweeps (Envoy 10 s)
 * @param baseEjectionTime                 ejection time per ejection multiplier step (Envoy 30 s)
 * @param maxEjectionTime                  cap of the ejection time (Envoy 300 s, or the base if larger)
 * @param maxEjectionPercent               most endpoints that may be ejected at once, in percent of all
 *                                         (Envoy 10); an ejection happens only if the ejected share
 *                                         <em>after</em> it is at most this
 * @param alwaysEjectOneHost               eject one endpoint even when that exceeds
 *                                         {@code maxEjectionPercent} (Envoy's
 *                                         {@code always_eject_one_host}, default false)
 * @param enforcingConsecutive5xx          chance in percent that a consecutive-5xx detection ejects
 *                                         (Envoy 100)
 * @param enforcingConsecutiveGatewayFailure chance in percent for consecutive gateway failures
 *                                         (Envoy 0: detected and logged, not enforced)
 * @param enforcingSuccessRate             chance in percent for success-rate outliers (Envoy 100)
 * @param successRateMinimumHosts          endpoints with enough volume needed for success-rate
 *                                         detection (Envoy 5)
 * @param successRateRequestVolume         requests in one interval an endpoint needs to take part
 *                                         (Envoy 100)
 * @param successRateStdevFactor           eject below {@code mean - factor/1000 × stdev}
 *                                         (Envoy 1900, i.e. 1.9)
 * @param failurePercentageThreshold       eject at or above this failure percentage (Envoy 85)
 * @param enforcingFailurePercentage       chance in percent for failure-percentage outliers
 *                                         (Envoy 0: off)
 * @param failurePercentageMinimumHosts    endpoints with enough volume needed (Envoy 5)
 * @param failurePercentageRequestVolume   requests in one interval an endpoint needs (Envoy 50)
 * @param successfulActiveCheckUnejects    a passing active check of an active-healthy endpoint ends
 *                                         its ejection early (Envoy
 *                                         {@code successful_active_health_check_uneject_host}, true)
 */
public record OutlierDetection(boolean enabled, int consecutive5xx, int consecutiveGatewayFailure,
                               Duration interval, Duration baseEjectionTime, Duration maxEjectionTime,
                               int maxEjectionPercent, boolean alwaysEjectOneHost,
                               int enforcingConsecutive5xx, int enforcingConsecutiveGatewayFailure,
                               int enforcingSuccessRate, int successRateMinimumHosts,
                               int successRateRequestVolume, int successRateStdevFactor,
                               int failurePercentageThreshold, int enforcingFailurePercentage,
                               int failurePercentageMinimumHosts, int failurePercentageRequestVolume,
                               boolean successfulActiveCheckUnejects) {

    private static final OutlierDetection DEFAULTS = builder().build();
    private static final OutlierDetection DISABLED = builder().enabled(false).build();

    /** Validates like {@link Builder#build()}. */
    public OutlierDetection {
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(baseEjectionTime, "baseEjectionTime");
        Objects.requireNonNull(maxEjectionTime, "maxEjectionTime");
        atLeast("consecutive5xx", consecutive5xx, 1);
        atLeast("consecutiveGatewayFailure", consecutiveGatewayFailure, 1);
        positive("interval", interval);
        positive("baseEjectionTime", baseEjectionTime);
        if (maxEjectionTime.compareTo(baseEjectionTime) < 0) {
            throw new IllegalArgumentException("maxEjectionTime must be >= baseEjectionTime ("
                    + baseEjectionTime + "), got " + maxEjectionTime);
        }
        percent("maxEjectionPercent", maxEjectionPercent);
        percent("enforcingConsecutive5xx", enforcingConsecutive5xx);
        percent("enforcingConsecutiveGatewayFailure", enforcingConsecutiveGatewayFailure);
        percent("enforcingSuccessRate", enforcingSuccessRate);
        atLeast("successRateMinimumHosts", successRateMinimumHosts, 1);
        atLeast("successRateRequestVolume", successRateRequestVolume, 1);
        atLeast("successRateStdevFactor", successRateStdevFactor, 0);
        percent("failurePercentageThreshold", failurePercentageThreshold);
        percent("enforcingFailurePercentage", enforcingFailurePercentage);
        atLeast("failurePercentageMinimumHosts", failurePercentageMinimumHosts, 1);
        atLeast("failurePercentageRequestVolume", failurePercentageRequestVolume, 1);
    }

    /** Envoy's defaults. */
    public static OutlierDetection envoyDefaults() {
        return DEFAULTS;
    }

    /** Outlier detection off: outcomes are not even counted. */
    public static OutlierDetection disabled() {
        return DISABLED;
    }

    /** A builder holding Envoy's defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these settings. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.enabled = enabled;
        b.consecutive5xx = consecutive5xx;
        b.consecutiveGatewayFailure = consecutiveGatewayFailure;
        b.interval = interval;
        b.baseEjectionTime = baseEjectionTime;
        b.maxEjectionTime = maxEjectionTime;
        b.maxEjectionPercent = maxEjectionPercent;
        b.alwaysEjectOneHost = alwaysEjectOneHost;
        b.enforcingConsecutive5xx = enforcingConsecutive5xx;
        b.enforcingConsecutiveGatewayFailure = enforcingConsecutiveGatewayFailure;
        b.enforcingSuccessRate = enforcingSuccessRate;
        b.successRateMinimumHosts = successRateMinimumHosts;
        b.successRateRequestVolume = successRateRequestVolume;
        b.successRateStdevFactor = successRateStdevFactor;
        b.failurePercentageThreshold = failurePercentageThreshold;
        b.enforcingFailurePercentage = enforcingFailurePercentage;
        b.failurePercentageMinimumHosts = failurePercentageMinimumHosts;
        b.failurePercentageRequestVolume = failurePercentageRequestVolume;
        b.successfulActiveCheckUnejects = successfulActiveCheckUnejects;
        return b;
    }

    /** The ejection time for an endpoint whose ejection multiplier is {@code multiplier}. */
    public Duration ejectionTime(int multiplier) {
        Duration d = baseEjectionTime.multipliedBy(multiplier);
        return d.compareTo(maxEjectionTime) > 0 ? maxEjectionTime : d;
    }

    private static void atLeast(String field, int value, int min) {
        if (value < min) {
            throw new IllegalArgumentException(field + " must be >= " + min + ", got " + value);
        }
    }

    private static void percent(String field, int value) {
        if (value < 0 || value > 100) {
            throw new IllegalArgumentException(field + " must be 0..100, got " + value);
        }
    }

    private static void positive(String field, Duration d) {
        if (d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(field + " must be > 0, got " + d);
        }
    }

    /** Builder for {@link OutlierDetection}, starting from Envoy's defaults. */
    public static final class Builder {
        private boolean enabled = true;
        private int consecutive5xx = 5;
        private int consecutiveGatewayFailure = 5;
        private Duration interval = Duration.ofSeconds(10);
        private Duration baseEjectionTime = Duration.ofSeconds(30);
        private Duration maxEjectionTime; // null: max(300 s, base), as Envoy
        private int maxEjectionPercent = 10;
        private boolean alwaysEjectOneHost;
        private int enforcingConsecutive5xx = 100;
        private int enforcingConsecutiveGatewayFailure = 0;
        private int enforcingSuccessRate = 100;
        private int successRateMinimumHosts = 5;
        private int successRateRequestVolume = 100;
        private int successRateStdevFactor = 1900;
        private int failurePercentageThreshold = 85;
        private int enforcingFailurePercentage = 0;
        private int failurePercentageMinimumHosts = 5;
        private int failurePercentageRequestVolume = 50;
        private boolean successfulActiveCheckUnejects = true;

        private Builder() {
        }

        public Builder enabled(boolean v) { enabled = v; return this; }
        public Builder consecutive5xx(int v) { consecutive5xx = v; return this; }
        public Builder consecutiveGatewayFailure(int v) { consecutiveGatewayFailure = v; return this; }
        public Builder interval(Duration v) { interval = v; return this; }
        public Builder baseEjectionTime(Duration v) { baseEjectionTime = v; return this; }
        /** Cap of the ejection time; when not set, the larger of 300 s and the base ejection time. */
        public Builder maxEjectionTime(Duration v) { maxEjectionTime = v; return this; }
        public Builder maxEjectionPercent(int v) { maxEjectionPercent = v; return this; }
        public Builder alwaysEjectOneHost(boolean v) { alwaysEjectOneHost = v; return this; }
        public Builder enforcingConsecutive5xx(int v) { enforcingConsecutive5xx = v; return this; }
        public Builder enforcingConsecutiveGatewayFailure(int v) { enforcingConsecutiveGatewayFailure = v; return this; }
        public Builder enforcingSuccessRate(int v) { enforcingSuccessRate = v; return this; }
        public Builder successRateMinimumHosts(int v) { successRateMinimumHosts = v; return this; }
        public Builder successRateRequestVolume(int v) { successRateRequestVolume = v; return this; }
        /** The factor in thousandths: 1900 means 1.9 standard deviations. */
        public Builder successRateStdevFactor(int v) { successRateStdevFactor = v; return this; }
        public Builder failurePercentageThreshold(int v) { failurePercentageThreshold = v; return this; }
        public Builder enforcingFailurePercentage(int v) { enforcingFailurePercentage = v; return this; }
        public Builder failurePercentageMinimumHosts(int v) { failurePercentageMinimumHosts = v; return this; }
        public Builder failurePercentageRequestVolume(int v) { failurePercentageRequestVolume = v; return this; }
        public Builder successfulActiveCheckUnejects(boolean v) { successfulActiveCheckUnejects = v; return this; }

        /** Validates and builds; the message of a failure names the field and the bad value. */
        public OutlierDetection build() {
            Objects.requireNonNull(interval, "interval");
            Objects.requireNonNull(baseEjectionTime, "baseEjectionTime");
            Duration max = maxEjectionTime;
            if (max == null) {
                Duration def = Duration.ofSeconds(300);
                max = baseEjectionTime.compareTo(def) > 0 ? baseEjectionTime : def;
            }
            return new OutlierDetection(enabled, consecutive5xx, consecutiveGatewayFailure, interval,
                    baseEjectionTime, max, maxEjectionPercent, alwaysEjectOneHost, enforcingConsecutive5xx,
                    enforcingConsecutiveGatewayFailure, enforcingSuccessRate, successRateMinimumHosts,
                    successRateRequestVolume, successRateStdevFactor, failurePercentageThreshold,
                    enforcingFailurePercentage, failurePercentageMinimumHosts, failurePercentageRequestVolume,
                    successfulActiveCheckUnejects);
        }
    }
}
