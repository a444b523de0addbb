package io.lbkit.example.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lbkit.testing.RedisServers;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Seed 000's flow, for real: two instances of the example app (embedded Tomcat, sessions in a real
 * Redis through the starter) behind lbkit {@code serve} (its runnable jar in a process of its own,
 * the event-loop engine, active health checks on {@code /actuator/health}), all on loopback. A session made through the session API
 * is the app's {@code request.getSession()} on both instances, and survives one instance being
 * stopped and started again (a rolling deployment) with no failed request.
 */
class BehindServeIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private RedisServers.Server redis;
    private final int[] ports = {RedisServers.freePort(), RedisServers.freePort()};
    private final ConfigurableApplicationContext[] instances = new ConfigurableApplicationContext[2];
    private Process proxy;
    private Path dir;
    private URI base;

    private ConfigurableApplicationContext instance(int i) {
        // as command-line arguments: they win over application.yaml, as they would for `java -jar`
        return new SpringApplicationBuilder(ExampleBackend.class).run(
                "--server.port=" + ports[i], "--server.address=127.0.0.1", "--lbkit.session.store=" + redis.url(),
                "--lbkit.instance-id.value=instance-" + i, "--spring.main.banner-mode=off");
    }

    @BeforeEach
    void start() throws Exception {
        redis = RedisServers.standalone();
        instances[0] = instance(0);
        instances[1] = instance(1);
        int port = RedisServers.freePort();
        dir = Files.createTempDirectory("lbkit-example-");
        Path config = Files.writeString(dir.resolve("lbkit.yaml"), """
                listen: ["127.0.0.1:%d"]
                upstreams:
                  app:
                    endpoints: ["127.0.0.1:%d", "127.0.0.1:%d"]
                    healthCheck: { path: /actuator/health, interval: 200ms, timeout: 1s, rise: 1, fall: 1, startHealthy: true }
                """.formatted(port, ports[0], ports[1]));
        Path jar = Path.of("../../lb-server/target/lb-server.jar").toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(jar), "lbkit serve's jar is built before this module: " + jar);
        proxy = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-jar", jar.toString(), "serve", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("serve.log").toFile()).start();
        boolean up = false;
        for (int i = 0; i < 300 && !up && proxy.isAlive(); i++) { // bounded: 30 s for the JVM to start
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                up = true;
            } catch (java.io.IOException e) {
                Thread.sleep(100);
            }
        }
        assertTrue(up, "serve listens; its log: " + Files.readString(dir.resolve("serve.log")));
        base = URI.create("http://127.0.0.1:" + port + "/");
    }

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.destroy();
            proxy.waitFor(20, TimeUnit.SECONDS);
        }
        for (ConfigurableApplicationContext c : instances) {
            if (c != null) {
                c.close();
            }
        }
        if (redis != null) {
            redis.close();
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    private HttpResponse<String> send(String method, String path, String cookie, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(20))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (cookie != null) {
            b.header("Cookie", cookie);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** GET /me: asserts 200 and the visit count, answers the instance that served it. */
    private String visit(String cookie, int expectedVisits) throws Exception {
        HttpResponse<String> r = send("GET", "/me", cookie, null);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode page = JSON.readTree(r.body());
        assertEquals("test", page.path("username").asText(), r.body());
        assertEquals(expectedVisits, page.path("visits").asInt(), r.body());
        return r.headers().firstValue("X-Instance-ID").orElseThrow();
    }

    @Test
    void aSessionFromTheSessionApiIsEveryInstancesSessionAndSurvivesARollingRestart() throws Exception {
        HttpResponse<String> created = send("POST", "/session", null, "{\"username\": \"test\", \"data\": \"session_data\"}");
        assertEquals(201, created.statusCode(), created.body());
        String id = JSON.readTree(created.body()).path("session_id").asText();
        assertTrue(id.length() >= 22, created.body());
        String cookie = "LBSESSION=" + id;

        int visits = 0;
        Set<String> served = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            served.add(visit(cookie, ++visits));
        }
        assertEquals(Set.of("instance-0", "instance-1"), served, "round robin: one session, both instances");

        // a rolling deployment: instance 0 stops, the other serves every request, instance 0 comes back
        instances[0].close();
        instances[0] = null;
        for (int i = 0; i < 10; i++) {
            assertEquals("instance-1", visit(cookie, ++visits), "while instance 0 is away");
        }
        instances[0] = instance(0);
        boolean back = false;
        for (int i = 0; i < 200 && !back; i++) { // bounded: the health check brings it back within a few intervals
            back = visit(cookie, ++visits).equals("instance-0");
            if (!back) {
                Thread.sleep(50);
            }
        }
        assertTrue(back, "instance 0 serves again after its restart");

        HttpResponse<String> api = send("GET", "/session?session_id=" + id, null, null);
        assertEquals(200, api.statusCode(), api.body());
        JsonNode data = JSON.readTree(api.body()).path("data");
        assertEquals("test", data.path("username").asText(), api.body());
        assertEquals("session_data", data.path("data").asText(), api.body());
        assertEquals(visits, data.path("visits").asInt(), "every visit was kept: " + api.body());
        assertNotNull(redis.cli("PTTL", "lbkit:session:" + id));
    }

    @Test
    void aLoginThroughTheProxyGivesACookieThatBothInstancesHonour() throws Exception {
        HttpResponse<String> login = send("POST", "/login", null, "{\"username\": \"test\"}");
        assertEquals(200, login.statusCode(), login.body());
        String cookie = login.headers().firstValue("Set-Cookie").orElseThrow().split(";", 2)[0];
        assertTrue(cookie.startsWith("LBSESSION="), cookie);
        assertEquals(401, send("GET", "/me", null, null).statusCode(), "no cookie, no session");
        Set<String> served = new HashSet<>();
        for (int i = 1; i <= 4; i++) {
            served.add(visit(cookie, i));
        }
        assertEquals(2, served.size(), served.toString());
    }
}
