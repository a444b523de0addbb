package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lbkit.core.Endpoint;
import io.lbkit.core.EndpointState;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.FanOut;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.RequestValue;
import io.lbkit.proxy.Route;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Broadcast routes (seed 003): seed test cases, aggregations, summary, skipped and failing endpoints. */
class FanOutIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static FanOutBackend one;
    static FanOutBackend two;
    static FanOutBackend three;

    @BeforeAll
    static void backends() throws Exception {
        one = new FanOutBackend("one");
        two = new FanOutBackend("two");
        three = new FanOutBackend("three");
    }

    @AfterAll
    static void stop() {
        one.close();
        two.close();
        three.close();
    }

    static Upstream upstream(FanOutBackend... backends) {
        Upstream.Builder b = Upstream.builder("webhooks");
        for (FanOutBackend f : backends) {
            b.endpoint(f.endpoint());
        }
        return b.build();
    }

    static ProxyFixture proxy(ProxyEngine kind, Upstream up, FanOut fanOut) {
        return proxy(kind, up, fanOut, ProxyConfig.builder());
    }

    static ProxyFixture proxy(ProxyEngine kind, Upstream up, FanOut fanOut, ProxyConfig.Builder cfg) {
        return new ProxyFixture(kind, cfg.route(Route.builder("webhook", up).broadcast(fanOut).build()).build());
    }

    static HttpResponse<String> post(ProxyFixture p, String path, String form) throws Exception {
        return p.send(p.request(path).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build());
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    // ---- seed 003's cases, through a broadcast ALL route -------------------------------------

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void routeToEachBackendAnswersWithBothResults(ProxyEngine kind) throws Exception {
        FanOut summary = FanOut.builder().summary(true).build();
        try (ProxyFixture p = proxy(kind, upstream(one, two), summary)) {
            for (FanOutBackend target : new FanOutBackend[] {one, two}) {
                HttpResponse<String> r = post(p, "/", "backend=" + target.id);
                assertEquals(200, r.statusCode(), r.body());
                assertEquals("application/json", r.headers().firstValue("Content-Type").orElseThrow());
                assertEquals("backend_one, backend_two", r.headers().firstValue("X-Served-By").orElseThrow());
                JsonNode j = JSON.readTree(r.body());
                assertEquals(200, j.get("status").asInt());
                assertTrue(j.get("ok").asBoolean());
                assertEquals("all", j.get("aggregation").asText());
                JsonNode results = j.get("results");
                assertEquals(2, results.size());
                for (int i = 0; i < 2; i++) {
                    FanOutBackend b = i == 0 ? one : two;
                    JsonNode e = results.get(i);
                    assertEquals(b.id, e.get("endpoint").asText());
                    assertEquals(200, e.get("status").asInt());
                    assertEquals(b == target ? "Processing webhook request on backend " + b.name
                            : "Wrong backend but ok!", e.get("body").asText());
                    assertFalse(e.get("truncated").asBoolean());
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void anyFailingBackendFailsTheRequestWithItsStatus(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind, upstream(one, two), FanOut.builder().build())) {
            int h1 = one.hits.get();
            int h2 = two.hits.get();
            HttpResponse<String> r = post(p, "/", "fail_one");
            assertEquals(404, r.statusCode());
            assertEquals("failure on backend one", r.body());
            assertEquals("backend_one", r.headers().firstValue("X-Instance-ID").orElseThrow(), "the failing response is passed on");

            r = post(p, "/", "fail_two");
            assertEquals(404, r.statusCode());
            assertEquals("failure on backend two", r.body());

            r = post(p, "/", "fail_all");
            assertEquals(404, r.statusCode());
            assertEquals("failure on backend one", r.body(), "several failures: the first endpoint in config order decides");
            assertEquals("backend_one, backend_two", r.headers().firstValue("X-Served-By").orElseThrow());

            r = post(p, "/", "backend=backend_two");
            assertEquals(200, r.statusCode());
            assertEquals("Wrong backend but ok!", r.body(), "success: the first endpoint's response");
            assertEquals(h1 + 4, one.hits.get(), "every request reached backend_one");
            assertEquals(h2 + 4, two.hits.get(), "every request reached backend_two");
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void largeFilePayloadReachesEveryBackendExactly(ProxyEngine kind) throws Exception {
        byte[] file = new byte[5 << 20];
        new Random(3).nextBytes(file);
        CRC32 crc = new CRC32();
        crc.update(file);
        ProxyConfig.Builder cfg = ProxyConfig.builder().maxRequestBodyBytes(8 << 20);
        try (ProxyFixture p = proxy(kind, upstream(one, two), FanOut.builder().build(), cfg)) {
            one.lastBody.set(null);
            two.lastBody.set(null);
            // declared length
            HttpResponse<String> r = p.send(p.request("/").POST(HttpRequest.BodyPublishers.ofByteArray(file)).build());
            assertEquals(200, r.statusCode(), r.body());
            for (FanOutBackend b : new FanOutBackend[] {one, two}) {
                assertEquals(file.length, b.lastBody.get()[0], b.id);
                assertEquals(crc.getValue(), b.lastBody.get()[1], b.id);
            }
            one.lastBody.set(null);
            two.lastBody.set(null);
            // chunked (no Content-Length)
            r = p.send(p.request("/").POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(file)))
                    .build());
            assertEquals(200, r.statusCode(), r.body());
            for (FanOutBackend b : new FanOutBackend[] {one, two}) {
                assertEquals(file.length, b.lastBody.get()[0], b.id);
                assertEquals(crc.getValue(), b.lastBody.get()[1], b.id);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void bodyOverTheLimitIs413AndReachesNoBackend(ProxyEngine kind) throws Exception {
        ProxyConfig.Builder cfg = ProxyConfig.builder().maxRequestBodyBytes(100_000);
        try (ProxyFixture p = proxy(kind, upstream(one, two), FanOut.builder().build(), cfg)) {
            int h1 = one.hits.get();
            int h2 = two.hits.get();
            byte[] big = new byte[300_000];
            HttpResponse<String> r = p.send(p.request("/").POST(HttpRequest.BodyPublishers.ofByteArray(big)).build());
            assertEquals(413, r.statusCode());
            try {
                r = p.send(p.request("/").POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)))
                        .build());
                assertEquals(413, r.statusCode(), "chunked body counted while buffering");
            } catch (java.io.IOException closedWhileSending) {
                // the container may close the connection before the client finished sending
            }
            assertEquals(h1, one.hits.get());
            assertEquals(h2, two.hits.get());
        }
    }

    // ---- aggregations ------------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void firstSuccessAnswersAndTheOthersAreDrained(ProxyEngine kind) throws Exception {
        // backend_one (first in order) waits on its gate; backend_two answers at once
        Upstream up = upstream(one, two);
        try (ProxyFixture p = proxy(kind, up, FanOut.builder().aggregation(FanOut.Aggregation.FIRST).build())) {
            one.shut();
            int done = one.gateDone.get();
            HttpResponse<String> r = post(p, "/gate?on=backend_one", "backend=backend_two");
            assertEquals(200, r.statusCode());
            assertEquals("Processing webhook request on backend two", r.body());
            assertEquals("backend_two", r.headers().firstValue("X-Instance-ID").orElseThrow());
            assertEquals(0, one.gateDone.get() - done, "backend_one has not answered yet");
            one.open();
            await(() -> one.gateDone.get() > done, "backend_one to answer");
            await(() -> up.status("backend_one").orElseThrow().inFlight() == 0, "backend_one's selection completed");
            assertEquals(0, up.status("backend_two").orElseThrow().inFlight());
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void firstFailsOnlyWhenEveryEndpointFailed(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind, upstream(one, two), FanOut.builder().aggregation(FanOut.Aggregation.FIRST).build())) {
            HttpResponse<String> r = post(p, "/", "fail_one");
            assertEquals(200, r.statusCode());
            assertEquals("Wrong backend but ok!", r.body());
            r = post(p, "/", "fail_all");
            assertEquals(404, r.statusCode());
            assertEquals("failure on backend one", r.body());
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void quorumOfTwoOutOfThree(ProxyEngine kind) throws Exception {
        FanOut q = FanOut.builder().quorum(2).summary(true).build();
        try (ProxyFixture p = proxy(kind, upstream(one, two, three), q)) {
            HttpResponse<String> r = p.get("/status?code=500&on=backend_two");
            assertEquals(200, r.statusCode(), r.body());
            JsonNode j = JSON.readTree(r.body());
            assertTrue(j.get("ok").asBoolean());
            assertEquals("quorum", j.get("aggregation").asText());

            r = p.get("/status?code=503&on=backend_three");
            assertEquals(200, r.statusCode(), r.body());

            // two of three fail: the quorum cannot be reached
            r = post(p, "/", "fail_two fail_three");
            assertEquals(404, r.statusCode(), r.body());
            j = JSON.readTree(r.body());
            assertFalse(j.get("ok").asBoolean());
            assertEquals(404, j.get("status").asInt());
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void primaryResponseIsReturnedWhenItSucceeded(ProxyEngine kind) throws Exception {
        FanOut f = FanOut.builder().primary("backend_two").build();
        try (ProxyFixture p = proxy(kind, upstream(one, two), f)) {
            HttpResponse<String> r = post(p, "/", "backend=backend_two");
            assertEquals(200, r.statusCode());
            assertEquals("Processing webhook request on backend two", r.body());
            assertEquals("backend_two", r.headers().firstValue("X-Instance-ID").orElseThrow());
            assertTrue(r.headers().firstValue("Via").orElseThrow().endsWith("lbkit"));
            r = post(p, "/", "fail_one");
            assertEquals(404, r.statusCode(), "ALL: a failure still decides");
            assertEquals("failure on backend one", r.body());
        }
    }

    // ---- unavailable, refused, timed out -----------------------------------------------------

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void unavailableEndpointsAreSkippedAndNothingAvailableIs503(ProxyEngine kind) throws Exception {
        Upstream up = upstream(one, two);
        try (ProxyFixture p = proxy(kind, up, FanOut.builder().summary(true).build())) {
            up.setState("backend_two", EndpointState.DOWN);
            int h2 = two.hits.get();
            HttpResponse<String> r = post(p, "/", "backend=backend_one");
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("backend_one", r.headers().firstValue("X-Served-By").orElseThrow());
            JsonNode results = JSON.readTree(r.body()).get("results");
            assertEquals("Processing webhook request on backend one", results.get(0).get("body").asText());
            assertTrue(results.get(1).get("skipped").asBoolean());
            assertEquals(h2, two.hits.get());

            up.setState("backend_one", EndpointState.DOWN);
            r = post(p, "/", "backend=backend_one");
            assertEquals(503, r.statusCode());
            assertEquals(0, up.status("backend_one").orElseThrow().inFlight());
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void refusedConnectionIs502AndTimeoutIs504(ProxyEngine kind) throws Exception {
        Upstream up = Upstream.builder("webhooks").endpoint(one.endpoint())
                .endpoint(Endpoint.builder("closed").host("127.0.0.1").port(ProxyFailuresIT.closedPort()).build())
                .build();
        try (ProxyFixture p = proxy(kind, up, FanOut.builder().summary(true).build())) {
            HttpResponse<String> r = post(p, "/", "backend=backend_one");
            assertEquals(502, r.statusCode(), r.body());
            JsonNode results = JSON.readTree(r.body()).get("results");
            assertEquals(200, results.get(0).get("status").asInt());
            assertEquals(502, results.get(1).get("status").asInt());
            assertEquals("connect_failure", results.get(1).get("error").asText());
        }
        ProxyConfig.Builder cfg = ProxyConfig.builder().readTimeout(Duration.ofMillis(300));
        try (FanOutBackend gated = new FanOutBackend("gated");
             ProxyFixture p = proxy(kind, upstream(two, gated), FanOut.builder().build(), cfg)) {
            HttpResponse<String> r = post(p, "/gate?on=backend_gated", "x");
            assertEquals(504, r.statusCode(), r.body());
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void concurrentBroadcastsAllComplete(ProxyEngine kind) throws Exception {
        Upstream up = upstream(one, two, three);
        try (ProxyFixture p = proxy(kind, up, FanOut.builder().build())) {
            CompletableFuture<?>[] fs = new CompletableFuture<?>[40];
            for (int i = 0; i < fs.length; i++) {
                String form = "n=" + i + (i % 4 == 0 ? "&fail_three" : "");
                fs[i] = p.http.sendAsync(p.request("/").POST(HttpRequest.BodyPublishers.ofString(form)).build(),
                        HttpResponse.BodyHandlers.ofString())
                        .thenAccept(r -> assertEquals(form.contains("fail") ? 404 : 200, r.statusCode(), form));
            }
            CompletableFuture.allOf(fs).get();
            for (String id : new String[] {"backend_one", "backend_two", "backend_three"}) {
                assertEquals(0, up.status(id).orElseThrow().inFlight(), id);
            }
        }
    }

    // ---- builder validation --------------------------------------------------------------------

    @Test
    void builderValidation() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> FanOut.builder().aggregation(FanOut.Aggregation.QUORUM).build());
        assertEquals("quorum must be >= 1 with aggregation QUORUM, got 0", e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> FanOut.builder().summaryBodyBytes(-1).build());
        assertEquals("summaryBodyBytes must be 0..1048576, got -1", e.getMessage());
        Upstream up = upstream(one, two);
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Route.builder("w", up).broadcast(FanOut.builder().primary("nope").build()).build());
        assertEquals("route 'w': fan-out primary 'nope' is not an endpoint of upstream 'webhooks'", e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Route.builder("w", up).broadcast(FanOut.builder().build())
                        .target(RequestValue.header("X-Backend")).build());
        assertEquals("route 'w': broadcast cannot be combined with target", e.getMessage());
    }
}
