package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.SessionApi;
import io.lbkit.session.SessionIds;
import io.lbkit.session.SessionSettings;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The session API served by every engine (the servlet engine in Jetty 12 and Tomcat 11, the event
 * loop), each case against the in-memory store and against
 * {@link io.lbkit.session.redis.RedisSessionStore} on a real redis-server: {@code /session}
 * (loopback only, no token), {@code /secure/session} (token), {@code /remote/session} (only
 * 10.0.0.0/8: the test client is denied); every other path goes to the proxy's one route.
 */
class SessionApiIT {

    private static final String CASES = "io.lbkit.proxy.contract.SessionStores#cases";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "s3cret-token-0123456789";
    private static final Instant ORIGIN = Instant.parse("2026-03-01T10:00:00Z");
    private static final SessionStores STORES = new SessionStores();
    private static TestBackend backend;
    private final SessionStores.ManualTicker ticker = new SessionStores.ManualTicker();
    private FaultySessionStore store;
    private ProxyFixture proxy;

    @BeforeAll
    static void startBackend() throws Exception {
        backend = new TestBackend("app");
    }

    @AfterAll
    static void stopRedisAndBackend() {
        try {
            STORES.close();
        } finally {
            backend.close();
        }
    }

    private void start(ProxyEngine engine, SessionStores.Backing backing) {
        store = new FaultySessionStore(STORES.create(backing,
                SessionSettings.builder().idleTimeout(Duration.ofMinutes(30)).maxSessionBytes(1024).build(),
                ticker, ORIGIN));
        Upstream app = Upstream.builder("app").endpoint(ProxyFixture.endpoint(backend)).build();
        proxy = new ProxyFixture(engine, ProxyConfig.builder().route(Route.builder("app", app).build()).build(), Map.of(
                "/session", SessionApi.builder(store).loopbackOnly().build(),
                "/secure/session", SessionApi.builder(store).token(TOKEN).build(),
                "/remote/session", SessionApi.builder(store).allowFrom("10.0.0.0/8").build()));
    }

    @AfterEach
    void stop() {
        try {
            if (proxy != null) {
                proxy.close();
            }
        } finally {
            STORES.closeStores();
        }
    }

    private URI api(String q) {
        return proxy.uri("/session" + (q.isEmpty() ? "" : "?" + q));
    }

    /** A POST with {@code Content-Type: application/json} unless {@code headers} name one. */
    private static HttpResponse<String> post(URI uri, String body, String... headers) {
        return send("POST", uri, body, "application/json", headers);
    }

    /** A PUT with {@code Content-Type: application/merge-patch+json} unless {@code headers} name one. */
    private static HttpResponse<String> put(URI uri, String body, String... headers) {
        return send("PUT", uri, body, "application/merge-patch+json", headers);
    }

    /** {@code contentType} null: no Content-Type at all. */
    private static HttpResponse<String> send(String method, URI uri, String body, String contentType, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).method(method, HttpRequest.BodyPublishers.ofString(body));
        boolean named = false;
        for (int i = 0; i < headers.length; i += 2) {
            named |= headers[i].equalsIgnoreCase("Content-Type");
        }
        if (contentType != null && !named) {
            b.header("Content-Type", contentType);
        }
        if (headers.length > 0) {
            b.headers(headers);
        }
        return Http.send(b);
    }

    private static String error(HttpResponse<String> r) throws Exception {
        return json(r).get("error").textValue();
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        assertEquals("application/json;charset=utf-8",
                r.headers().firstValue("Content-Type").orElse("").replace(" ", "").toLowerCase(), r.body());
        return JSON.readTree(r.body());
    }

    private static JsonNode tree(String s) throws Exception {
        return JSON.readTree(s);
    }

    private String create(String data) throws Exception {
        HttpResponse<String> r = post(api(""), data);
        assertEquals(201, r.statusCode(), r.body());
        return json(r).get("session_id").textValue();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void postCreatesWithAServerIdAndGetReturnsTheSameShape(ProxyEngine engine, SessionStores.Backing backing) throws Exception {
        start(engine, backing);
        HttpResponse<String> r = post(api(""), "{\"username\":\"test\",\"data\":\"session_data\"}");
        assertEquals(201, r.statusCode());
        JsonNode b = json(r);
        String id = b.get("session_id").textValue();
        assertTrue(SessionIds.isWellFormed(id));
        assertEquals(tree("{\"data\":\"session_data\",\"username\":\"test\"}"), b.get("data"));
        assertEquals(1, b.get("version").intValue());
        Instant created = Instant.parse(b.get("created_at").textValue());
        if (backing == SessionStores.Backing.MEMORY) {
            assertEquals(ORIGIN, created);
        }
        assertEquals(created, Instant.parse(b.get("last_accessed_at").textValue()));
        assertEquals(created.plus(Duration.ofMinutes(30)), Instant.parse(b.get("expires_at").textValue()));
        assertEquals("/session?session_id=" + id, r.headers().firstValue("Location").orElse(null));
        assertEquals("\"1\"", r.headers().firstValue("ETag").orElse(null));
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(null));
        assertEquals(java.util.List.of(), r.headers().allValues("Set-Cookie"));

        ticker.advance(Duration.ofMinutes(10));
        HttpResponse<String> g = Http.get(api("session_id=" + id));
        assertEquals(200, g.statusCode());
        JsonNode gb = json(g);
        assertEquals(id, gb.get("session_id").textValue());
        assertEquals(b.get("data"), gb.get("data"));
        assertEquals(created, Instant.parse(gb.get("created_at").textValue()));
        Instant accessed = Instant.parse(gb.get("last_accessed_at").textValue());
        if (backing == SessionStores.Backing.MEMORY) {
            assertEquals(Instant.parse("2026-03-01T10:10:00Z"), accessed);
        } else {
            assertFalse(accessed.isBefore(created), accessed + " before " + created); // the Redis server's clock
        }
        assertEquals(accessed.plus(Duration.ofMinutes(30)), Instant.parse(gb.get("expires_at").textValue()),
                "GET slides the idle expiry");

        HttpResponse<String> byCookie = Http.get(api(""), "Cookie", "LBSESSION=" + id);
        assertEquals(200, byCookie.statusCode());
        assertEquals(id, json(byCookie).get("session_id").textValue());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void putAppliesAMergePatchWithOptionalIfMatch(ProxyEngine engine, SessionStores.Backing backing) throws Exception {
        start(engine, backing);
        String id = create("{\"user\":{\"name\":\"ann\",\"roles\":[\"a\"],\"tmp\":1},\"cart\":3,\"gone\":true}");
        HttpResponse<String> r = put(api("session_id=" + id),
                "{\"user\":{\"tmp\":null,\"email\":\"a@x\"},\"gone\":null,\"cart\":4}",
                "Content-Type", "application/merge-patch+json");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(tree("{\"cart\":4,\"user\":{\"name\":\"ann\",\"roles\":[\"a\"],\"email\":\"a@x\"}}"), json(r).get("data"));
        assertEquals("\"2\"", r.headers().firstValue("ETag").orElse(null));

        HttpResponse<String> stale = put(api("session_id=" + id), "{\"cart\":5}",
                "Content-Type", "application/json", "If-Match", "\"1\"");
        assertEquals(412, stale.statusCode());
        assertTrue(json(stale).get("error").textValue().contains("version conflict"));
        assertEquals("\"2\"", stale.headers().firstValue("ETag").orElse(null));
        assertEquals(4, json(Http.get(api("session_id=" + id))).get("data").get("cart").intValue(), "nothing written");

        HttpResponse<String> fresh = put(api("session_id=" + id), "{\"cart\":5}",
                "Content-Type", "application/json", "If-Match", "\"2\"");
        assertEquals(200, fresh.statusCode());
        assertEquals(5, json(fresh).get("data").get("cart").intValue());

        assertEquals(400, put(api("session_id=" + id), "{\"cart\":6}", "If-Match", "W/\"3\"").statusCode());
        HttpResponse<String> wrongType = put(api("session_id=" + id), "cart=6", "Content-Type", "text/plain");
        assertEquals(415, wrongType.statusCode());
        assertEquals("application/merge-patch+json", wrongType.headers().firstValue("Accept-Patch").orElse(null));
        assertEquals(404, put(api("session_id=" + SessionIds.generate()), "{\"a\":1}").statusCode());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void deleteAnswers204ThenNotFound(ProxyEngine engine, SessionStores.Backing backing) throws Exception {
        start(engine, backing);
        String id = create("{}");
        HttpResponse<String> d = Http.send(HttpRequest.newBuilder(api("session_id=" + id)).DELETE());
        assertEquals(204, d.statusCode());
        assertEquals("", d.body());
        HttpResponse<String> again = Http.send(HttpRequest.newBuilder(api("session_id=" + id)).DELETE());
        assertEquals(404, again.statusCode());
        assertEquals(tree("{\"error\":\"session not found\"}"), json(again));
        assertEquals(404, Http.get(api("session_id=" + id)).statusCode());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void badInputAnswers400WithAJsonError(ProxyEngine engine, SessionStores.Backing backing) throws Exception {
        start(engine, backing);
        for (String q : new String[] {"session_id=short", "session_id=" + "x".repeat(500), "session_id=" + "a".repeat(30) + "%2F%2F",
                "session_id=" + "a".repeat(31) + "%21", ""}) {
            HttpResponse<String> r = Http.get(api(q));
            assertEquals(400, r.statusCode(), q);
            assertTrue(json(r).get("error").isTextual());
        }
        for (String body : new String[] {"{", "[1,2]", "\"text\"", "42", "{\"a\":1} {\"b\":2}", "{\"a\":1,\"a\":2}", ""}) {
            HttpResponse<String> r = post(api(""), body);
            assertEquals(400, r.statusCode(), body);
            assertTrue(json(r).get("error").textValue().length() > 0);
        }
        assertEquals(400, post(api("session_id=" + SessionIds.generate()), "{}").statusCode(), "client-chosen id refused");
        String id = create("{\"a\":1}");
        assertEquals(400, put(api("session_id=" + id), "[]").statusCode());
        assertEquals(1, json(Http.get(api("session_id=" + id))).get("data").get("a").intValue());
    }

    /**
     * A cross-site HTML form can POST {@code text/plain}, {@code application/x-www-form-urlencoded}
     * or {@code multipart/form-data}, and a cross-site fetch can send no Content-Type at all: none
     * creates a session. PUT needs a JSON type too.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void bodiesMustSayTheyAreJson(ProxyEngine engine, SessionStores.Backing backing) throws Exception {
        start(engine, backing);
        String body = "{\"user\":\"x\"}";
        for (String type : new String[] {"text/plain", "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=b", "application/merge-patch+json", "text/json"}) {
            HttpResponse<String> r = post(api(""), body, "Content-Type", type);
            assertEquals(415, r.statusCode(), type);
            assertEquals("Content-Type must be application/json, got " + type.split(";")[0], error(r));
        }
        HttpResponse<String> none = send("POST", api(""), body, null);
        assertEquals(415, none.statusCode());
        assertEquals("Content-Type must be application/json, got none", error(none));
        assertEquals(201, post(api(""), body, "Content-Type", "Application/JSON; charset=utf-8").statusCode());

        String id = create("{\"a\":1}");
        HttpResponse<String> untyped = send("PUT", api("session_id=" + id), "{\"a\":2}", null);
        assertEquals(415, untyped.statusCode());
        assertEquals("application/merge-patch+json", untyped.headers().firstValue("Accept-Patch").orElse(null));
        assertEquals("Content-Type must be application/merge-patch+json or application/json, got none", error(untyped));
        assertEquals(415, put(api("session_id=" + id), "a=2", "Content-Type", "application/x-www-form-urlencoded")
                .statusCode());
        assertEquals(tree("{\"a\":1}"), json(Http.get(api("session_id=" + id))).get("data"), "nothing written");
        assertEquals(200, put(api("session_id=" + id), "{\"a\":2}", "Content-Type", "application/json").statusCode());
    }

    /** Every refusal of a body is worded by lbkit: the problem and where, no parser class or setting. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void malformedBodiesAreExplainedInLbkitsWords(ProxyEngine engine, SessionStores.Backing backing) throws Exception {
        start(engine, backing);
        String deep = "{\"a\":" + "[".repeat(1000) + "]".repeat(1000) + "}"; // 1001 levels with the object
        String deepButParsed = "{\"a\":" + "[".repeat(999) + "]".repeat(999) + "}";
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("{", "malformed JSON: the body ends inside a value at line 1, column 2");
        expected.put("{a:1}", "malformed JSON at line 1, column 2");
        expected.put("{\"a\":nul}", "malformed JSON at line 1, column 6");
        expected.put("[1,2]", "the body must be a JSON object, got an array");
        expected.put("\"text\"", "the body must be a JSON object, got a string");
        expected.put("42", "the body must be a JSON object, got a number");
        expected.put("null", "the body must be a JSON object, got null");
        expected.put("", "a JSON object body is required");
        expected.put("  ", "a JSON object body is required");
        expected.put("{\"a\":1} {\"b\":2}", "the body has more after its JSON value at line 1, column 9");
        expected.put("{\"a\":1,\"a\":2}", "duplicate key at /a");
        expected.put("{\"x\":{\"a\":[],\"a\":{}}}", "duplicate key at /x/a");
        expected.put(deep, "the body nests deeper than 1000 levels");
        expected.put(deepButParsed, "session attribute 'a' nests deeper than 200 levels");
        expected.put("{\"a\":1" + "0".repeat(1000) + "}", "a number in the body is longer than 1000 characters"
                + " at line 1, column 1007");
        String id = create("{\"a\":1}");
        for (Map.Entry<String, String> e : expected.entrySet()) {
            for (HttpResponse<String> r : List.of(post(api(""), e.getKey()), put(api("session_id=" + id), e.getKey()))) {
                assertEquals(400, r.statusCode(), e.getKey());
                String message = error(r);
                assertEquals(e.getValue(), message, r.request().method() + " " + e.getKey());
                for (String internal : new String[] {"Stream", "JsonNode", "jackson", "Feature", "`", "Exception"}) {
                    assertFalse(message.contains(internal), message);
                }
            }
        }
        assertEquals(tree("{\"a\":1}"), json(Http.get(api("session_id=" + id))).get("data"), "nothing written");
    }

    /**
     * Strings with an unpaired surrogate and numbers a double cannot hold would not read back as
     * written (invalid Unicode; Infinity or 0 in most clients): refused on POST and PUT, at any
     * depth, naming the attribute and the place.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void valuesThatCannotReadBackAreRefused(ProxyEngine engine, SessionStores.Backing backing) throws Exception {
        start(engine, backing);
        String surrogate = " with an unpaired UTF-16 surrogate (\\ud800 at index 0), which is not Unicode text";
        String tooLarge = " is a number beyond the range of a double (±1.7976931348623157E308): a reader that holds"
                + " numbers as doubles gets Infinity";
        String tooSmall = " is a non-zero number closer to 0 than a double holds (4.9E-324): a reader that holds"
                + " numbers as doubles gets 0";
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("{\"a\":\"\\ud800\"}", "session attribute 'a' has a string" + surrogate);
        expected.put("{\"a\":{\"b\":[1,\"\\ud800\"]}}", "session attribute 'a' at /b/1 has a string" + surrogate);
        expected.put("{\"a\":{\"b\":{\"c\":[\"\\udc00\"]}}}", "session attribute 'a' at /b/c/0 has a string"
                + surrogate.replace("d800", "dc00"));
        expected.put("{\"n\":1e999999999}", "session attribute 'n'" + tooLarge);
        expected.put("{\"n\":-1.8e308}", "session attribute 'n'" + tooLarge);
        expected.put("{\"n\":{\"big\":1" + "0".repeat(309) + "}}", "session attribute 'n' at /big" + tooLarge);
        expected.put("{\"n\":[1e-999999999]}", "session attribute 'n' at /0" + tooSmall);
        String id = create("{\"a\":1}");
        for (Map.Entry<String, String> e : expected.entrySet()) {
            for (HttpResponse<String> r : List.of(post(api(""), e.getKey()), put(api("session_id=" + id), e.getKey()))) {
                assertEquals(400, r.statusCode(), e.getKey());
                assertEquals(e.getValue(), error(r), r.request().method() + " " + e.getKey());
            }
        }
        // a key with an unpaired surrogate is no valid JSON text at all
        for (String body : new String[] {"{\"\\ud800\":1}", "{\"a\":{\"x\\ud800\":1}}"}) {
            assertEquals(400, post(api(""), body).statusCode(), body);
            assertEquals(400, put(api("session_id=" + id), body).statusCode(), body);
        }
        assertEquals(tree("{\"a\":1}"), json(Http.get(api("session_id=" + id))).get("data"), "nothing written");
        // what does read back is kept exactly: a pair, the edges of a double, digits beyond a double
        String fine = "{\"s\":\"\\ud83d\\ude00\",\"max\":1.7976931348623157e308,\"min\":4.9e-324,"
                + "\"exact\":0.100000000000000000000000000001}";
        HttpResponse<String> ok = post(api(""), fine);
        assertEquals(201, ok.statusCode(), ok.body());
        JsonNode data = json(Http.get(api("session_id=" + json(ok).get("session_id").textValue()))).get("data");
        assertEquals("\uD83D\uDE00", data.get("s").textValue());
        assertEquals(Double.MAX_VALUE, data.get("max").doubleValue());
        assertEquals(Double.MIN_VALUE, data.get("min").doubleValue());
        assertEquals(new java.math.BigDecimal("0.100000000000000000000000000001"),
                new ObjectMapper().enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
                        .readTree(Http.get(api("session_id=" + json(ok).get("session_id").textValue())).body())
                        .get("data").get("exact").decimalValue());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void oversizedBodiesAndSessionsAnswer413(ProxyEngine engine, SessionStores.Backing backing) throws Exception {
        start(engine, backing);
        String huge = "{\"a\":\"" + "x".repeat(64 * 1024) + "\"}";
        HttpResponse<String> declared = post(api(""), huge);
        assertEquals(413, declared.statusCode());
        assertEquals("request body of " + huge.length() + " bytes is over the limit of 2048", error(declared));
        HttpResponse<String> chunked = Http.send(HttpRequest.newBuilder(api(""))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(huge.getBytes())))); // no length
        assertEquals(413, chunked.statusCode());
        assertEquals("request body is over the limit of 2048 bytes", error(chunked));
        String overSession = "{\"a\":\"" + "x".repeat(1500) + "\"}"; // under the body limit, over maxSessionBytes
        HttpResponse<String> tooBig = post(api(""), overSession);
        assertEquals(413, tooBig.statusCode());
        assertTrue(json(tooBig).get("error").textValue().contains("maxSessionBytes=1024"));
        String id = create("{\"a\":1}");
        assertEquals(413, put(api("session_id=" + id), overSession).statusCode());
        assertEquals(tree("{\"a\":1}"), json(Http.get(api("session_id=" + id))).get("data"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void accessControlByTokenAndAddress(ProxyEngine engine, SessionStores.Backing backing) throws Exception {
        start(engine, backing);
        URI secure = proxy.uri("/secure/session");
        HttpResponse<String> missing = post(secure, "{}");
        assertEquals(401, missing.statusCode());
        assertEquals("Bearer realm=\"lbkit-session-api\"", missing.headers().firstValue("WWW-Authenticate").orElse(null));
        assertEquals(403, post(secure, "{}", "Authorization", "Bearer wrong-token-0123456789").statusCode());
        assertEquals(403, post(secure, "{}", "X-Session-Api-Token", TOKEN + "x").statusCode());
        assertEquals(201, post(secure, "{}", "Authorization", "Bearer " + TOKEN).statusCode());
        assertEquals(201, post(secure, "{}", "X-Session-Api-Token", TOKEN).statusCode());
        HttpResponse<String> remote = post(proxy.uri("/remote/session"), "{}");
        assertEquals(403, remote.statusCode());
        assertEquals(tree("{\"error\":\"forbidden\"}"), json(remote));
    }

    /**
     * A request refused before its body arrived (here the body is never sent): the answer says
     * {@code Connection: close}, since the container may drop the connection instead of reading
     * the body, and a client that reused it would send its next request into a closed socket.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void aRefusalBeforeTheBodyIsReadClosesTheConnection(ProxyEngine engine, SessionStores.Backing backing)
            throws Exception {
        start(engine, backing);
        int port = proxy.port();
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            s.setSoTimeout(30_000);
            s.getOutputStream().write(("POST /secure/session HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            String head = readHead(s.getInputStream());
            assertTrue(head.startsWith("HTTP/1.1 401 "), head);
            assertTrue(head.toLowerCase().contains("\r\nconnection: close\r\n"), head);
        }
        try (Socket s = new Socket()) { // a bodiless refusal keeps the connection
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            s.setSoTimeout(30_000);
            s.getOutputStream().write("GET /secure/session?session_id=x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            String head = readHead(s.getInputStream());
            assertTrue(head.startsWith("HTTP/1.1 401 "), head);
            assertFalse(head.toLowerCase().contains("connection: close"), head);
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            sb.append((char) c);
            if (sb.length() >= 4 && sb.substring(sb.length() - 4).equals("\r\n\r\n")) {
                return sb.toString();
            }
        }
        return sb.toString();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void storeDownAnswers503(ProxyEngine engine, SessionStores.Backing backing) throws Exception {
        start(engine, backing);
        String id = create("{}");
        store.down.set(true);
        HttpResponse<String> g = Http.get(api("session_id=" + id));
        assertEquals(503, g.statusCode());
        assertEquals("1", g.headers().firstValue("Retry-After").orElse(null));
        assertEquals(tree("{\"error\":\"session store unavailable\"}"), json(g));
        assertEquals(503, post(api(""), "{}").statusCode());
        store.down.set(false);
        assertEquals(200, Http.get(api("session_id=" + id)).statusCode());
    }
    /** HEAD answers as GET does, without the body. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void headAnswersLikeGetWithoutABody(ProxyEngine engine, SessionStores.Backing backing) throws Exception {
        start(engine, backing);
        String id = create("{\"a\":1}");
        HttpResponse<String> get = Http.get(api("session_id=" + id));
        HttpResponse<String> head = Http.send(HttpRequest.newBuilder(api("session_id=" + id))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()));
        assertEquals(200, head.statusCode());
        assertEquals("", head.body());
        assertEquals(get.headers().firstValue("ETag"), head.headers().firstValue("ETag"));
        assertEquals(String.valueOf(get.body().getBytes(StandardCharsets.UTF_8).length),
                head.headers().firstValue("Content-Length").orElse(null));
        assertEquals(404, Http.send(HttpRequest.newBuilder(api("session_id=" + SessionIds.generate()))
                .method("HEAD", HttpRequest.BodyPublishers.noBody())).statusCode());
    }

    /** Paths beside the API's exact path go to the routes: the API is no prefix. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void otherPathsGoToTheRoutes(ProxyEngine engine, SessionStores.Backing backing) throws Exception {
        start(engine, backing);
        for (String path : new String[] {"/session/x", "/sessions", "/secure"}) {
            int before = backend.hits(path);
            HttpResponse<String> r = Http.get(proxy.uri(path));
            assertEquals("app", r.headers().firstValue("X-Instance-ID").orElse(null), path);
            assertEquals(before + 1, backend.hits(path), path);
        }
    }
}
