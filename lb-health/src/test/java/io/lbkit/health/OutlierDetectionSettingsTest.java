package io.lbkit.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import java.time.Duration;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Defaults equal Envoy's; bad settings fail at build naming the field and value. */
class OutlierDetectionSettingsTest {

    @Test
    void defaultsAreEnvoys() {
        OutlierDetection d = OutlierDetection.envoyDefaults();
        assertTrue(d.enabled());
        assertEquals(5, d.consecutive5xx());
        assertEquals(5, d.consecutiveGatewayFailure());
        assertEquals(Duration.ofSeconds(10), d.interval());
        assertEquals(Duration.ofSeconds(30), d.baseEjectionTime());
        assertEquals(Duration.ofSeconds(300), d.maxEjectionTime());
        assertEquals(10, d.maxEjectionPercent());
        assertFalse(d.alwaysEjectOneHost());
        assertEquals(100, d.enforcingConsecutive5xx());
        assertEquals(0, d.enforcingConsecutiveGatewayFailure());
        assertEquals(100, d.enforcingSuccessRate());
        assertEquals(5, d.successRateMinimumHosts());
        assertEquals(100, d.successRateRequestVolume());
        assertEquals(1900, d.successRateStdevFactor());
        assertEquals(85, d.failurePercentageThreshold());
        assertEquals(0, d.enforcingFailurePercentage());
        assertEquals(5, d.failurePercentageMinimumHosts());
        assertEquals(50, d.failurePercentageRequestVolume());
        assertTrue(d.successfulActiveCheckUnejects());
        assertFalse(OutlierDetection.disabled().enabled());
        assertEquals(d, d.toBuilder().build());
    }

    @Test
    void maxEjectionTimeDefaultsToTheLargerOf300sAndTheBase() {
        assertEquals(Duration.ofSeconds(400),
                OutlierDetection.builder().baseEjectionTime(Duration.ofSeconds(400)).build().maxEjectionTime());
        OutlierDetection d = OutlierDetection.envoyDefaults();
        assertEquals(Duration.ofSeconds(30), d.ejectionTime(1));
        assertEquals(Duration.ofSeconds(90), d.ejectionTime(3));
        assertEquals(Duration.ofSeconds(300), d.ejectionTime(11));
    }

    private static void fails(String message, Supplier<?> build) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build::get);
        assertEquals(message, e.getMessage());
    }

    @Test
    void validationNamesTheFieldAndValue() {
        fails("consecutive5xx must be >= 1, got 0", () -> OutlierDetection.builder().consecutive5xx(0).build());
        fails("consecutiveGatewayFailure must be >= 1, got -1",
                () -> OutlierDetection.builder().consecutiveGatewayFailure(-1).build());
        fails("interval must be > 0, got PT0S", () -> OutlierDetection.builder().interval(Duration.ZERO).build());
        fails("baseEjectionTime must be > 0, got PT-1S",
                () -> OutlierDetection.builder().baseEjectionTime(Duration.ofSeconds(-1)).build());
        fails("maxEjectionTime must be >= baseEjectionTime (PT30S), got PT10S",
                () -> OutlierDetection.builder().maxEjectionTime(Duration.ofSeconds(10)).build());
        fails("maxEjectionPercent must be 0..100, got 101",
                () -> OutlierDetection.builder().maxEjectionPercent(101).build());
        fails("enforcingSuccessRate must be 0..100, got -5",
                () -> OutlierDetection.builder().enforcingSuccessRate(-5).build());
        fails("successRateMinimumHosts must be >= 1, got 0",
                () -> OutlierDetection.builder().successRateMinimumHosts(0).build());
        fails("successRateStdevFactor must be >= 0, got -1",
                () -> OutlierDetection.builder().successRateStdevFactor(-1).build());
        fails("failurePercentageThreshold must be 0..100, got 200",
                () -> OutlierDetection.builder().failurePercentageThreshold(200).build());
        fails("failurePercentageRequestVolume must be >= 1, got 0",
                () -> OutlierDetection.builder().failurePercentageRequestVolume(0).build());
    }

    @Test
    void monitorAndDeploymentValidation() {
        Upstream u = Upstream.builder("v").endpoint(Endpoint.parse("a:1")).build();
        fails("panicThresholdPercent must be 0..100, got 150",
                () -> HealthMonitor.builder(u).panicThresholdPercent(150).build());
        fails("initialState must be UP or CHECKING, got EJECTED",
                () -> HealthMonitor.builder(u).initialState(EndpointHealthState.EJECTED).build());
        fails("pollInterval must be > 0, got PT0S", () -> HealthMonitor.builder(u).pollInterval(Duration.ZERO).build());
        try (HealthMonitor m = HealthMonitor.builder(u).build()) {
            fails("requiredPasses must be >= 1, got 0", () -> RollingDeployment.builder(m).requiredPasses(0).build());
            fails("readyTimeout must be > 0, got PT-1S",
                    () -> RollingDeployment.builder(m).readyTimeout(Duration.ofSeconds(-1)).build());
            fails("drainTimeout must be > 0, got PT0S",
                    () -> RollingDeployment.builder(m).drainTimeout(Duration.ZERO).build());
            fails("upstream 'v': no endpoint with id 'nope'", () -> {
                m.drain("nope");
                return null;
            });
        }
    }
}
