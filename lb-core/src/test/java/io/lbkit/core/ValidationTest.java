package io.lbkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Builder validation names the field and the bad value; "no endpoint" is a value, not an exception. */
class ValidationTest {

    private static void rejects(Executable e, String field, String value) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        String msg = x.getMessage();
        assertNotNull(msg);
        assertTrue(msg.contains(field), "message should name '" + field + "': " + msg);
        assertTrue(msg.contains(value), "message should contain the bad value '" + value + "': " + msg);
    }

    private static Upstream two(BalancingPolicy p) {
        return Upstream.builder("u").policy(p)
                .endpoint(Endpoint.parse("10.0.0.1:80")).endpoint(Endpoint.parse("10.0.0.2:80")).build();
    }

    @Test
    void weightMustBePositive() {
        rejects(() -> Endpoint.parseBuilder("10.0.0.1:80").weight(0).build(), "weight", "0");
        rejects(() -> Endpoint.parseBuilder("10.0.0.1:80").weight(-3).build(), "weight", "-3");
        Upstream u = two(BalancingPolicy.roundRobin());
        rejects(() -> u.setWeight("10.0.0.1:80", 0), "weight", "0");
        assertEquals(1, u.endpoint("10.0.0.1:80").orElseThrow().weight(), "a rejected re-weight changes nothing");
    }

    @Test
    void duplicateIds() {
        rejects(() -> Upstream.builder("u").endpoint(Endpoint.parse("10.0.0.1:80"))
                .endpoint(Endpoint.parseBuilder("10.0.0.1:80").weight(2).build()).build(), "id", "10.0.0.1:80");
        Upstream u = two(BalancingPolicy.roundRobin());
        rejects(() -> u.add(Endpoint.parse("10.0.0.2:80")), "id", "10.0.0.2:80");
        assertEquals(2, u.endpoints().size());
    }

    @Test
    void tableSizeMustBePrime() {
        rejects(() -> BalancingPolicy.builder("maglev").tableSize(65536).build(), "tableSize", "65536");
        rejects(() -> BalancingPolicy.builder("maglev").tableSize(1000).build(), "tableSize", "1000");
        rejects(() -> BalancingPolicy.builder("maglev").tableSize(-5).build(), "tableSize", "-5");
    }

    @Test
    void emptyPool() {
        rejects(() -> Upstream.builder("u").build(), "endpoints", "empty");
    }

    @Test
    void balanceFactor() {
        rejects(() -> BalancingPolicy.builder("maglev").balanceFactor(50).build(), "balanceFactor", "50");
        rejects(() -> BalancingPolicy.builder("consistent-hash").balanceFactor(99).build(), "balanceFactor", "99");
        rejects(() -> BalancingPolicy.builder("jump").balanceFactor(-1).build(), "balanceFactor", "-1");
        // 0 = off and >= 100 are fine
        BalancingPolicy.builder("rendezvous").balanceFactor(0).build();
        BalancingPolicy.builder("rendezvous").balanceFactor(100).build();
    }

    @Test
    void choiceCount() {
        rejects(() -> BalancingPolicy.builder("least-request").choiceCount(1).build(), "choiceCount", "1");
        rejects(() -> BalancingPolicy.builder("least-request").choiceCount(11).build(), "choiceCount", "11");
        rejects(() -> BalancingPolicy.builder("peak-ewma").choiceCount(0).build(), "choiceCount", "0");
        BalancingPolicy.builder("least-request").choiceCount(10).build();
        BalancingPolicy.builder("peak-ewma").choiceCount(2).build();
    }

    @Test
    void optionNotApplicableToPolicy() {
        rejects(() -> BalancingPolicy.builder("round-robin").tableSize(65537).build(), "tableSize", "round-robin");
        rejects(() -> BalancingPolicy.builder("least-conn").balanceFactor(150).build(), "balanceFactor", "least-conn");
        rejects(() -> BalancingPolicy.builder("maglev").choiceCount(2).build(), "choiceCount", "maglev");
        rejects(() -> BalancingPolicy.builder("hash").seed(1).build(), "seed", "hash");
        rejects(() -> BalancingPolicy.builder("random").activeRequestBias(1.0).build(), "activeRequestBias", "random");
    }

    @Test
    void unknownPolicyName() {
        rejects(() -> BalancingPolicy.builder("fastest").build(), "policy", "fastest");
    }

    @Test
    void negativeMaxConnections() {
        rejects(() -> Endpoint.parseBuilder("10.0.0.1:80").maxConnections(-1).build(), "maxConnections", "-1");
    }

    @Test
    void otherEndpointFields() {
        rejects(() -> Endpoint.parseBuilder("10.0.0.1:80").maxFails(-2).build(), "maxFails", "-2");
        rejects(() -> Endpoint.parseBuilder("10.0.0.1:80").port(70000).build(), "port", "70000");
        rejects(() -> Endpoint.parse("10.0.0.1:http"), "port", "http");
    }

    @Test
    void pickOnEmptyUpstreamIsEmptyNotNullNorException() {
        Upstream u = Upstream.builder("u").allowEmpty(true).build();
        for (String name : BalancingPolicy.NAMES) {
            Upstream e = Upstream.builder("u").policy(BalancingPolicy.builder(name).build()).allowEmpty(true).build();
            Selection s = e.pick(PickRequest.create().hashKey("k"));
            assertNotNull(s, name);
            assertFalse(s.found(), name);
            assertEquals(Selection.NoEndpointReason.EMPTY, s.reason(), name);
        }
        Selection s = u.pick();
        assertNotNull(s);
        assertFalse(s.found());
        assertEquals(Selection.NoEndpointReason.EMPTY, s.reason());
        s.complete(200, 0); // a no-op, not an error
        NoEndpointException x = assertThrows(NoEndpointException.class, s::endpoint);
        assertEquals(Selection.NoEndpointReason.EMPTY, x.reason());

        // adding then removing the last endpoint returns to EMPTY
        u.add(Endpoint.parse("10.0.0.1:80"));
        Selection one = u.pick();
        assertTrue(one.found());
        one.complete(200, 0);
        u.remove("10.0.0.1:80");
        assertEquals(Selection.NoEndpointReason.EMPTY, u.pick().reason());
    }

    @Test
    void allDownIsNoneAvailable() {
        for (String name : BalancingPolicy.NAMES) {
            Upstream u = two(BalancingPolicy.builder(name).build());
            u.setState("10.0.0.1:80", EndpointState.DOWN);
            u.setState("10.0.0.2:80", EndpointState.DOWN);
            Selection s = u.pick(PickRequest.create().hashKey("k"));
            assertFalse(s.found(), name);
            assertEquals(Selection.NoEndpointReason.NONE_AVAILABLE, s.reason(), name);
            NoEndpointException x = assertThrows(NoEndpointException.class, s::endpoint, name);
            assertEquals(Selection.NoEndpointReason.NONE_AVAILABLE, x.reason());
        }
    }

    @Test
    void allTriedIsAllTried() {
        for (String name : BalancingPolicy.NAMES) {
            Upstream u = two(BalancingPolicy.builder(name).build());
            PickRequest req = PickRequest.create().hashKey("k");
            Selection a = u.pick(req);
            assertTrue(a.found(), name);
            a.complete(Outcome.CONNECT_FAILURE, 0, 0);
            req.markTried(a);
            Selection b = u.pick(req);
            assertTrue(b.found(), name);
            assertTrue(b.endpoint() != a.endpoint(), name + ": picked a tried endpoint again");
            b.complete(Outcome.CONNECT_FAILURE, 0, 0);
            req.markTried(b);
            Selection c = u.pick(req);
            assertFalse(c.found(), name);
            assertEquals(Selection.NoEndpointReason.ALL_TRIED, c.reason(), name);
            assertThrows(NoEndpointException.class, c::endpoint, name);
        }
    }
}
