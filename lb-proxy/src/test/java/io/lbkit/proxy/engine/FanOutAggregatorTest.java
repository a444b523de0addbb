package io.lbkit.proxy.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.EndpointState;
import io.lbkit.core.Outcome;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.FanOut;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class FanOutAggregatorTest {

    private Upstream up;
    private final Map<String, List<String>> seen = new ConcurrentHashMap<>();

    private FanOutAggregator start(FanOut spec, String... ids) {
        return start(spec, ProxyConfig.builder(), ids);
    }

    private FanOutAggregator start(FanOut spec, ProxyConfig.Builder cfg, String... ids) {
        Upstream.Builder b = Upstream.builder("hooks");
        int port = 9001;
        for (String id : ids) {
            b.endpoint(Endpoint.builder(id).host("127.0.0.1").port(port++).build());
        }
        up = b.build();
        up.setOutcomeListener((e, o, st, latency, failure) -> seen.computeIfAbsent(e.id(), k -> new CopyOnWriteArrayList<>())
                .add(o == Outcome.RESPONSE ? o + " " + st : o.toString()));
        Route route = Route.builder("fan", up).broadcast(spec).build();
        return FanOutAggregator.start(cfg.route(route).build(), route, null);
    }

    private static ProxyConfig config() {
        return ProxyConfig.builder().route(Route.builder("r", Upstream.builder("u").endpoint(Endpoint.of("127.0.0.1", 1))
                .build()).build()).build();
    }

    /** A leg's response head with {@code fields} (name, value, ...) and a body. */
    private static void respond(FanOutAggregator.Leg leg, int status, String body, String... fields) {
        List<Map.Entry<String, String>> h = new ArrayList<>();
        for (int i = 0; i < fields.length; i += 2) {
            h.add(Map.entry(fields[i], fields[i + 1]));
        }
        leg.head(status, "HTTP/1.1", h);
        assertTrue(leg.content(ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8))));
    }

    private static String body(FanOutAnswer a) {
        return new String(a.body(), 0, a.bodyLength(), StandardCharsets.UTF_8);
    }

    private static Map<String, List<String>> headers(FanOutAnswer a, ProxyConfig config, boolean copyDate) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        a.writeHeaders(config, copyDate, new HeaderSink() {
            @Override
            public void add(String name, String value) {
                out.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
            }

            @Override
            public void set(String name, String value) {
                out.put(name, new ArrayList<>(List.of(value)));
            }
        });
        return out;
    }

    @Test
    void allWaitsForEveryLegAndAnswersWithTheFirstSuccessInConfigurationOrder() {
        FanOutAggregator f = start(FanOut.builder().build(), "a", "b");
        List<FanOutAggregator.Leg> legs = f.legs();
        assertTrue(f.enough());
        assertEquals(2, f.active());
        assertEquals(2, up.status("a").orElseThrow().inFlight() + up.status("b").orElseThrow().inFlight());
        respond(legs.get(1), 200, "from b", "X-Id", "b");
        assertNull(f.legResponded(legs.get(1)), "a is still running");
        respond(legs.get(0), 201, "from a", "X-Id", "a", "Connection", "close, X-Hop", "X-Hop", "1", "Keep-Alive", "x",
                "Via", "1.0 edge", "Date", "d", "X-New-Session-Id", "s", "Content-Length", "6");
        FanOutAnswer a = f.legResponded(legs.get(0));
        assertNotNull(a);
        assertTrue(a.ok());
        assertEquals(FanOutAnswer.Kind.RESPONSE, a.kind());
        assertEquals(201, a.status());
        assertSame(legs.get(0), a.chosen());
        assertEquals("from a", body(a));
        ProxyConfig config = config();
        Map<String, List<String>> h = headers(a, config, true);
        assertEquals(List.of("a"), h.get("X-Id"));
        assertEquals(List.of("d"), h.get("Date"));
        assertEquals(List.of("1.0 edge, 1.1 lbkit"), h.get("Via"));
        assertEquals(List.of("a, b"), h.get("X-Served-By"));
        for (String gone : new String[] {"Connection", "X-Hop", "Keep-Alive", "X-New-Session-Id", "Content-Length"}) {
            assertFalse(h.containsKey(gone), gone + " reached the client: " + h);
        }
        assertFalse(headers(a, config, false).containsKey("Date"), "the server writes its own Date");
        assertEquals(List.of("RESPONSE 201"), seen.get("a"));
        assertEquals(List.of("RESPONSE 200"), seen.get("b"));
        assertEquals(0, up.status("a").orElseThrow().inFlight());
        assertFalse(f.running());
    }

    @Test
    void allFailsWithTheFirstFailingLegInConfigurationOrder() {
        FanOutAggregator f = start(FanOut.builder().build(), "a", "b", "c");
        List<FanOutAggregator.Leg> legs = f.legs();
        respond(legs.get(2), 404, "c failed");
        assertNull(f.legResponded(legs.get(2)));
        assertNull(f.legFailed(legs.get(1), Outcome.CONNECT_FAILURE));
        respond(legs.get(0), 200, "a ok");
        FanOutAnswer a = f.legResponded(legs.get(0));
        assertFalse(a.ok());
        assertEquals(502, a.status(), "b, before c in configuration order, decides");
        assertEquals(FanOutAnswer.Kind.ERROR, a.kind());
        assertEquals("502 Bad Gateway\n", body(a));
        Map<String, List<String>> h = headers(a, config(), true);
        assertEquals(List.of(ErrorAnswer.CONTENT_TYPE), h.get("Content-Type"));
        assertEquals(List.of("a, b, c"), h.get("X-Served-By"));
        assertEquals(List.of("CONNECT_FAILURE"), seen.get("b"));
    }

    @Test
    void aFailingResponseIsPassedOnAndATimeoutIs504() {
        FanOutAggregator f = start(FanOut.builder().build(), "a", "b");
        respond(f.legs().get(0), 404, "not here", "X-Id", "a");
        assertNull(f.legResponded(f.legs().get(0)));
        FanOutAnswer a = f.legFailed(f.legs().get(1), Outcome.TIMEOUT);
        assertEquals(404, a.status());
        assertEquals(FanOutAnswer.Kind.RESPONSE, a.kind());
        assertEquals("not here", body(a));

        f = start(FanOut.builder().build(), "a");
        a = f.legFailed(f.legs().get(0), Outcome.TIMEOUT);
        assertEquals(504, a.status());
        assertEquals("504 Gateway Timeout\n", body(a));
        assertEquals(List.of("TIMEOUT"), seen.get("a").subList(seen.get("a").size() - 1, seen.get("a").size()));
    }

    @Test
    void firstAnswersWithTheFirstSuccessInTimeAndLateLegsStillComplete() {
        FanOutAggregator f = start(FanOut.builder().aggregation(FanOut.Aggregation.FIRST).build(), "a", "b", "c");
        List<FanOutAggregator.Leg> legs = f.legs();
        respond(legs.get(0), 500, "a broke");
        assertNull(f.legResponded(legs.get(0)));
        respond(legs.get(2), 200, "c ok");
        FanOutAnswer a = f.legResponded(legs.get(2));
        assertTrue(a.ok());
        assertEquals("c ok", body(a));
        assertTrue(f.decided());
        assertTrue(f.running(), "b still runs");
        respond(legs.get(1), 200, "b late");
        assertNull(f.legResponded(legs.get(1)), "decided once");
        assertEquals(List.of("RESPONSE 200"), seen.get("b"), "a late leg is recorded with its real outcome");
        assertEquals(0, up.status("b").orElseThrow().inFlight());
        assertThrows(IllegalStateException.class, () -> f.legResponded(legs.get(1)), "a leg ends once");
    }

    @Test
    void firstFailsOnlyWhenEveryLegFailed() {
        FanOutAggregator f = start(FanOut.builder().aggregation(FanOut.Aggregation.FIRST).build(), "a", "b");
        assertNull(f.legFailed(f.legs().get(1), Outcome.RESET));
        respond(f.legs().get(0), 404, "a: no");
        FanOutAnswer a = f.legResponded(f.legs().get(0));
        assertFalse(a.ok());
        assertEquals(404, a.status(), "the first failing leg in configuration order");
    }

    @Test
    void quorumDecidesAsSoonAsItIsReachedOrUnreachable() {
        FanOut q = FanOut.builder().quorum(2).summary(true).build();
        FanOutAggregator f = start(q, "a", "b", "c");
        respond(f.legs().get(1), 200, "b");
        assertNull(f.legResponded(f.legs().get(1)));
        respond(f.legs().get(2), 204, "");
        FanOutAnswer a = f.legResponded(f.legs().get(2));
        assertTrue(a.ok());
        assertEquals(200, a.status(), "the first success in configuration order");
        assertEquals("{\"status\":200,\"ok\":true,\"aggregation\":\"quorum\",\"results\":["
                + "{\"endpoint\":\"a\",\"pending\":true},"
                + "{\"endpoint\":\"b\",\"status\":200,\"body\":\"b\",\"truncated\":false},"
                + "{\"endpoint\":\"c\",\"status\":204,\"body\":\"\",\"truncated\":false}]}", body(a));
        assertEquals(List.of("application/json"), headers(a, config(), true).get("Content-Type"));

        f = start(q, "a", "b", "c");
        assertNull(f.legFailed(f.legs().get(0), Outcome.RESET));
        respond(f.legs().get(2), 503, "busy");
        a = f.legResponded(f.legs().get(2));
        assertNotNull(a, "one success left possible, two needed");
        assertFalse(a.ok());
        assertEquals(502, a.status());
        assertTrue(body(a).contains("{\"endpoint\":\"a\",\"status\":502,\"error\":\"reset\"}"), body(a));
        assertTrue(body(a).contains("{\"endpoint\":\"b\",\"pending\":true}"), body(a));
    }

    @Test
    void primaryIsReturnedWhenItSucceeded() {
        FanOutAggregator f = start(FanOut.builder().primary("b").build(), "a", "b");
        respond(f.legs().get(0), 200, "a");
        f.legResponded(f.legs().get(0));
        respond(f.legs().get(1), 200, "b");
        assertEquals("b", body(f.legResponded(f.legs().get(1))));

        f = start(FanOut.builder().primary("b").aggregation(FanOut.Aggregation.FIRST).build(), "a", "b");
        respond(f.legs().get(0), 200, "a");
        assertEquals("a", body(f.legResponded(f.legs().get(0))), "b had not answered when FIRST decided");
    }

    @Test
    void skippedEndpointsGetNoLegAndTooFewIs503() {
        FanOut summary = FanOut.builder().summary(true).build();
        FanOutAggregator f = start(summary, "a", "b");
        f.legFailed(f.legs().get(0), Outcome.CANCELLED);
        f.legFailed(f.legs().get(1), Outcome.CANCELLED);
        up.setState("a", EndpointState.DOWN);
        Route route = Route.builder("fan", up).broadcast(summary).build();
        f = FanOutAggregator.start(ProxyConfig.builder().route(route).build(), route, null);
        assertFalse(f.legs().get(0).active());
        assertTrue(f.legs().get(1).active());
        assertEquals("b", f.servedBy());
        respond(f.legs().get(1), 200, "b");
        FanOutAnswer a = f.legResponded(f.legs().get(1));
        assertTrue(body(a).contains("{\"endpoint\":\"a\",\"skipped\":true}"), body(a));

        up.setState("b", EndpointState.DOWN);
        f = FanOutAggregator.start(ProxyConfig.builder().route(route).build(), route, null);
        assertFalse(f.enough());
        assertEquals(0, f.active());

        up.setState("a", EndpointState.UP);
        Route quorum = Route.builder("q", up).broadcast(FanOut.builder().quorum(2).build()).build();
        f = FanOutAggregator.start(ProxyConfig.builder().route(quorum).build(), quorum, null);
        assertEquals(1, f.active());
        assertFalse(f.enough(), "one endpoint, a quorum of two");
        assertTrue(f.decided());
        assertEquals(0, up.status("a").orElseThrow().inFlight(), "the pick was given back");
        assertEquals("CANCELLED", seen.get("a").get(seen.get("a").size() - 1));
    }

    @Test
    void aBodyOverMaxResponseBytesIsA502AndSummaryBodiesAreCut() {
        FanOutAggregator f = start(FanOut.builder().maxResponseBytes(10).build(), "a");
        FanOutAggregator.Leg leg = f.legs().get(0);
        leg.head(200, "HTTP/1.1", List.of());
        assertTrue(leg.content(ByteBuffer.wrap(new byte[6])));
        ByteBuffer more = ByteBuffer.wrap(new byte[5]);
        assertFalse(leg.content(more));
        assertEquals(0, more.remaining(), "the chunk is consumed");
        FanOutAnswer a = f.legTooLarge(leg);
        assertEquals(502, a.status());
        assertEquals(FanOutAnswer.Kind.ERROR, a.kind());
        assertEquals(List.of("RESPONSE 200"), seen.get("a"), "the endpoint answered: not its failure");

        f = start(FanOut.builder().summary(true).summaryBodyBytes(4).build(), "a");
        leg = f.legs().get(0);
        leg.head(200, null, List.of());
        assertTrue(leg.content(ByteBuffer.wrap("abc".getBytes(StandardCharsets.UTF_8))));
        assertTrue(leg.content(ByteBuffer.wrap("defgh".getBytes(StandardCharsets.UTF_8))));
        a = f.legResponded(leg);
        assertTrue(body(a).contains("\"body\":\"abcd\",\"truncated\":true"), body(a));
    }

    @Test
    void cancelledAndNotSentLegsAreNotTheEndpointsFailure() {
        FanOutAggregator f = start(FanOut.builder().summary(true).build(), "a", "b");
        assertNull(f.legFailed(f.legs().get(0), Outcome.CANCELLED));
        FanOutAnswer a = f.legNotSent(f.legs().get(1), 400);
        assertEquals(499, a.status());
        assertTrue(body(a).contains("\"error\":\"cancelled\""), body(a));
        assertTrue(body(a).contains("{\"endpoint\":\"b\",\"status\":400,\"error\":\"not_sent\"}"), body(a));
        assertEquals(List.of("CANCELLED"), seen.get("a"));
        assertEquals(List.of("CANCELLED"), seen.get("b"));
        assertThrows(IllegalArgumentException.class, () -> f.legFailed(f.legs().get(0), Outcome.RESPONSE));
    }

    @Test
    void limitsAndTimeouts() {
        Upstream u = Upstream.builder("u").endpoint(Endpoint.of("127.0.0.1", 1)).build();
        Route own = Route.builder("r", u).broadcast(FanOut.builder().maxBodyBytes(10)
                .totalTimeout(Duration.ofSeconds(3)).build()).build();
        Route inherits = Route.builder("r", u).broadcast(FanOut.builder().build()).build();
        ProxyConfig limited = ProxyConfig.builder().route(own).maxRequestBodyBytes(100).totalTimeout(Duration.ofSeconds(9))
                .build();
        ProxyConfig unlimited = ProxyConfig.builder().route(inherits).maxRequestBodyBytes(0).build();
        assertEquals(10, FanOutAggregator.bodyLimit(limited, own));
        assertEquals(100, FanOutAggregator.bodyLimit(limited, inherits));
        assertEquals(FanOut.DEFAULT_BUFFER_LIMIT, FanOutAggregator.bodyLimit(unlimited, inherits));
        assertEquals(Duration.ofSeconds(3), FanOutAggregator.totalTimeout(limited, own.fanOut()));
        assertEquals(Duration.ofSeconds(9), FanOutAggregator.totalTimeout(limited, inherits.fanOut()));
        assertThrows(IllegalArgumentException.class, () -> FanOutAggregator.start(limited,
                Route.builder("plain", u).build(), null));
    }
}
