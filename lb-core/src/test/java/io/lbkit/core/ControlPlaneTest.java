package io.lbkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The control plane of {@link Upstream}: health, weights, panic, listeners, live state across snapshots. */
class ControlPlaneTest {

    private static Map<String, Integer> picks(Upstream u, int n) {
        Map<String, Integer> out = new HashMap<>();
        for (int i = 0; i < n; i++) {
            Selection s = u.pick();
            if (s.found()) {
                out.merge(s.endpoint().id(), 1, Integer::sum);
                s.complete(200, 0);
            } else {
                out.merge("<none>", 1, Integer::sum);
            }
        }
        return out;
    }

    private static Upstream.Builder four() {
        return Upstream.builder("u").endpoint(Endpoint.parse("a:1")).endpoint(Endpoint.parse("b:1"))
                .endpoint(Endpoint.parse("c:1")).endpoint(Endpoint.parse("d:1"));
    }

    @Test
    void unhealthyEndpointsAreSkippedUntilPanic() {
        Upstream u = four().panicThresholdPercent(50).build();
        u.setHealthy("a:1", false);
        assertEquals(Map.of("b:1", 100, "c:1", 100, "d:1", 100), picks(u, 300));
        u.setHealthy("b:1", false); // 2 of 4 healthy = 50%: not below the threshold
        assertEquals(Map.of("c:1", 150, "d:1", 150), picks(u, 300));
        u.setHealthy("c:1", false); // 1 of 4 healthy = 25% < 50%: panic, balance over all
        assertEquals(Map.of("a:1", 100, "b:1", 100, "c:1", 100, "d:1", 100), picks(u, 400));
        u.setHealthy("c:1", true);
        assertEquals(Map.of("c:1", 150, "d:1", 150), picks(u, 300));
    }

    @Test
    void panicThresholdChangesAtRuntime() {
        Upstream u = four().build();
        assertEquals(0, u.panicThresholdPercent());
        u.setHealthy("a:1", false);
        u.setHealthy("b:1", false);
        u.setHealthy("c:1", false); // 1 of 4 healthy, no threshold: only d
        assertFalse(u.inPanic());
        assertEquals(Map.of("d:1", 300), picks(u, 300));
        u.setPanicThresholdPercent(50); // 25% < 50%: panic now
        assertEquals(50, u.panicThresholdPercent());
        assertTrue(u.inPanic());
        assertEquals(Map.of("a:1", 100, "b:1", 100, "c:1", 100, "d:1", 100), picks(u, 400));
        u.setPanicThresholdPercent(25); // 25% is not below 25%
        assertFalse(u.inPanic());
        assertEquals(Map.of("d:1", 300), picks(u, 300));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> u.setPanicThresholdPercent(101));
        assertEquals("panicThresholdPercent must be 0..100, got 101", e.getMessage());
        assertEquals(25, u.panicThresholdPercent());
    }

    @Test
    void withoutPanicThresholdAllUnhealthyMeansNoEndpoint() {
        Upstream u = four().build();
        for (String id : List.of("a:1", "b:1", "c:1", "d:1")) {
            u.setHealthy(id, false);
        }
        Selection s = u.pick();
        assertFalse(s.found());
        assertEquals(Selection.NoEndpointReason.NONE_AVAILABLE, s.reason());
    }

    @Test
    void recoveredEndpointReentersWithSlowStart() {
        ManualTicker t = new ManualTicker();
        Upstream u = four().ticker(t).slowStart(SlowStart.of(Duration.ofSeconds(100))).build();
        u.setHealthy("a:1", false);
        u.setHealthy("a:1", true);
        int early = picks(u, 4000).getOrDefault("a:1", 0);
        assertTrue(early < 200, "ramping from 10%: " + early);
        t.advance(Duration.ofSeconds(101));
        assertEquals(1000, picks(u, 4000).get("a:1"));
    }

    @Test
    void weightPercentScalesTheShare() {
        Upstream u = Upstream.builder("u").endpoint(Endpoint.parseBuilder("a:1").weight(4).build())
                .endpoint(Endpoint.parseBuilder("b:1").weight(4).build()).build();
        u.setWeightPercent("a:1", 25); // weight 4 -> 1
        assertEquals(Map.of("a:1", 100, "b:1", 400), picks(u, 500));
        u.setWeightPercent("a:1", 0); // out of rotation
        assertEquals(Map.of("b:1", 500), picks(u, 500));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> u.setWeightPercent("a:1", -1));
        assertTrue(e.getMessage().contains("weightPercent") && e.getMessage().contains("-1"), e.getMessage());
    }

    @Test
    void outcomeListenerSeesEveryAttemptWithTheFailureVerdict() {
        Upstream u = Upstream.builder("u").failureStatuses(Set.of(502, 503))
                .endpoint(Endpoint.parseBuilder("a:1").maxFails(0).build())
                .endpoint(Endpoint.parseBuilder("b:1").maxFails(0).build()).build();
        List<String> seen = new ArrayList<>();
        u.setOutcomeListener((ep, outcome, status, latency, failure) ->
                seen.add(outcome + "/" + status + "/" + latency + "/" + failure));
        u.pick().complete(200, 5);
        u.pick().complete(503, 6);
        u.pick().complete(404, 7);
        u.pick().complete(Outcome.CONNECT_FAILURE, 999, 8);
        u.pick().complete(Outcome.CANCELLED, 0, 9);
        assertEquals(List.of("RESPONSE/200/5/false", "RESPONSE/503/6/true", "RESPONSE/404/7/false",
                "CONNECT_FAILURE/0/8/true", "CANCELLED/0/9/false"), seen);
    }

    @Test
    void liveStateSurvivesSnapshots() {
        Upstream u = four().policy(BalancingPolicy.leastConn()).build();
        PickRequest req = PickRequest.create().preferred("a:1");
        Selection held = u.pick(req);
        assertEquals("a:1", held.endpoint().id());
        u.setWeight("a:1", 3);                       // new snapshot
        u.setState("b:1", EndpointState.DRAINING);   // and another
        u.add(Endpoint.parse("e:1"));
        assertEquals(1, u.status("a:1").orElseThrow().inFlight());
        assertEquals(3, u.status("a:1").orElseThrow().endpoint().weight());
        held.complete(200, 0);
        assertEquals(0, u.status("a:1").orElseThrow().inFlight());
    }

    @Test
    void defaultTriesCountsEndpointsNotDown() {
        Upstream u = four().endpoint(Endpoint.parseBuilder("z:1").backup(true).build()).build();
        assertEquals(5, u.defaultTries());
        u.setState("a:1", EndpointState.DOWN);
        u.setState("b:1", EndpointState.DRAINING);
        assertEquals(4, u.defaultTries());
    }

    @Test
    void removedEndpointIsGoneAndUnknownIdsAreNamed() {
        Upstream u = four().build();
        assertTrue(u.remove("a:1"));
        assertFalse(u.remove("a:1"));
        assertTrue(u.status("a:1").isEmpty());
        assertFalse(picks(u, 100).containsKey("a:1"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> u.setWeight("zz", 2));
        assertTrue(e.getMessage().contains("'zz'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Upstream.builder("x").failureStatuses(Set.of(404)).endpoint(Endpoint.parse("a:1")).build());
        assertTrue(e.getMessage().contains("404"), e.getMessage());
    }

    @Test
    void endpointAddedUnhealthyTakesNoTrafficUntilHealthyThenRampsFromThatMoment() {
        ManualTicker t = new ManualTicker();
        Upstream u = four().ticker(t).slowStart(SlowStart.of(Duration.ofSeconds(100))).build();
        u.add(Endpoint.parse("e:1"), false);
        Upstream.EndpointStatus st = u.status("e:1").orElseThrow();
        assertFalse(st.healthy());
        assertEquals(EndpointState.UP, st.state());
        assertEquals(Map.of("a:1", 100, "b:1", 100, "c:1", 100, "d:1", 100), picks(u, 400));
        Selection sticky = u.pick(PickRequest.create().preferred("e:1"));
        assertNotEquals("e:1", sticky.endpoint().id(), "a preferred pick does not reach an unhealthy endpoint");
        sticky.complete(200, 0);
        t.advance(Duration.ofSeconds(500)); // slow start must not have begun at add
        u.setHealthy("e:1", true);
        int early = picks(u, 5000).getOrDefault("e:1", 0);
        assertTrue(early > 0 && early < 250, "ramping from 10% now: " + early);
        t.advance(Duration.ofSeconds(101));
        assertEquals(1000, picks(u, 5000).get("e:1"));
        u.add(Endpoint.parse("f:1"), true);
        assertTrue(u.status("f:1").orElseThrow().healthy());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> u.add(Endpoint.parse("f:1"), false));
        assertTrue(e.getMessage().contains("duplicate endpoint id 'f:1'"), e.getMessage());
        assertTrue(u.status("f:1").orElseThrow().healthy(), "the failed add changed nothing");
    }

    @Test
    void unhealthyAddCountsForThePanicThreshold() {
        Upstream u = Upstream.builder("u").panicThresholdPercent(50).endpoint(Endpoint.parse("a:1")).build();
        u.add(Endpoint.parse("b:1"), false); // 1 of 2 healthy: not below 50%
        assertFalse(u.inPanic());
        assertEquals(Map.of("a:1", 100), picks(u, 100));
        u.add(Endpoint.parse("c:1"), false); // 1 of 3: panic, as with setHealthy(false)
        assertTrue(u.inPanic());
    }

    @Test
    void attachmentReachesTheListenerAndDiesWithTheEndpoint() {
        Upstream u = Upstream.builder("u").endpoint(Endpoint.parseBuilder("a:1").maxFails(0).build())
                .endpoint(Endpoint.parseBuilder("b:1").maxFails(0).build()).build();
        List<String> seen = new ArrayList<>();
        u.setOutcomeListener(new OutcomeListener() {
            @Override
            public void onOutcome(Endpoint ep, Outcome outcome, int status, long latency, boolean failure) {
                seen.add("5-arg " + ep.id());
            }

            @Override
            public void onOutcome(Endpoint ep, Object attachment, Outcome outcome, int status, long latency,
                                  boolean failure) {
                seen.add(ep.id() + "=" + attachment + "/" + outcome + "/" + status + "/" + failure);
            }
        });
        Object slotA = "slot-a";
        u.setAttachment("a:1", slotA);
        assertTrue(u.attachment("a:1").orElseThrow() == slotA);
        assertTrue(u.attachment("b:1").isEmpty());
        assertTrue(u.attachment("zz").isEmpty());
        PickRequest req = PickRequest.create();
        u.pick(req.reset().preferred("a:1")).complete(200, 1);
        u.pick(req.reset().preferred("b:1")).complete(Outcome.TIMEOUT, 0, 2);
        u.setWeight("a:1", 3); // a new snapshot keeps the member and its attachment
        u.pick(req.reset().preferred("a:1")).complete(503, 3);
        u.remove("a:1");
        u.add(Endpoint.parseBuilder("a:1").maxFails(0).build());
        assertTrue(u.attachment("a:1").isEmpty(), "a re-added endpoint starts without");
        u.pick(req.reset().preferred("a:1")).complete(200, 4);
        u.setAttachment("b:1", "slot-b");
        u.setAttachment("b:1", null);
        assertTrue(u.attachment("b:1").isEmpty());
        assertEquals(List.of("a:1=slot-a/RESPONSE/200/false", "b:1=null/TIMEOUT/0/true",
                "a:1=slot-a/RESPONSE/503/false", "a:1=null/RESPONSE/200/false"), seen);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> u.setAttachment("zz", 1));
        assertTrue(e.getMessage().contains("'zz'"), e.getMessage());
    }

    @Test
    void aFiveArgumentListenerStillSeesEveryOutcome() {
        Upstream u = four().build();
        u.setAttachment("a:1", "ignored");
        List<String> seen = new ArrayList<>();
        u.setOutcomeListener((ep, outcome, status, latency, failure) -> seen.add(ep.id() + "/" + status));
        u.pick(PickRequest.create().preferred("a:1")).complete(201, 1);
        assertEquals(List.of("a:1/201"), seen);
    }
}
