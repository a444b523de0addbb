package io.lbkit.servlet.backend;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lbkit.health.app.ApplicationHealth;
import io.lbkit.health.app.ComponentHealth;
import io.lbkit.health.app.HealthReport;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves an {@link ApplicationHealth} as three endpoints (liveness, readiness, detailed), mounted at {@code /health/*}:
 *
 * <table>
 *   <caption>Endpoints</caption>
 *   <tr><th>path</th><th>for</th><th>200 when</th><th>503 when</th></tr>
 *   <tr><td>{@code /health/live}</td><td>liveness probe</td><td>no critical liveness check is DOWN</td><td>one is</td></tr>
 *   <tr><td>{@code /health/ready}</td><td>load balancer check</td><td>no critical readiness check is DOWN</td><td>one is</td></tr>
 *   <tr><td>{@code /health/detailed}</td><td>dashboards</td><td>always (details in the body)</td><td>never</td></tr>
 * </table>
 *
 * <p>The body is JSON: {@code {"status":"UP|DEGRADED|DOWN","checked_at":"...","components":
 * {"redis":{"status":"UP","detail":"...","duration_ms":1.25,"critical":true,"kind":"READINESS"}}}}.
 * Checks run on the health executor, never on a container thread: the request is asynchronous
 * while they run (each check has its own timeout). {@code GET} and {@code HEAD}; responses are
 * {@code Cache-Control: no-store}. Register with {@code setAsyncSupported(true)}.
 */
public final class HealthServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(HealthServlet.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final transient ApplicationHealth health;

    public HealthServlet(ApplicationHealth health) {
        this.health = Objects.requireNonNull(health, "health");
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String path = req.getPathInfo() == null ? "" : req.getPathInfo();
        CompletableFuture<HealthReport> report = switch (path) {
            case "/live" -> health.livenessAsync();
            case "/ready" -> health.readinessAsync();
            case "/detailed" -> health.detailedAsync();
            default -> null;
        };
        if (report == null) {
            resp.setStatus(404);
            resp.setContentType("application/json");
            resp.getWriter().write("{\"error\":\"unknown health endpoint; use /live, /ready or /detailed\"}");
            return;
        }
        boolean head = "HEAD".equals(req.getMethod());
        AsyncContext async = req.startAsync();
        async.setTimeout(0);
        report.whenComplete((r, failure) -> {
            try {
                HttpServletResponse out = (HttpServletResponse) async.getResponse();
                out.setHeader("Cache-Control", "no-store");
                out.setContentType("application/json");
                if (failure != null) {
                    LOG.warn("health report failed: {}", failure.toString());
                    out.setStatus(503);
                    if (!head) {
                        out.getWriter().write("{\"status\":\"DOWN\",\"error\":\"health report failed\"}");
                    }
                } else {
                    byte[] body = render(r);
                    out.setStatus(r.httpStatus());
                    out.setContentLength(body.length);
                    if (!head) {
                        out.getOutputStream().write(body);
                    }
                }
            } catch (IOException | RuntimeException e) {
                LOG.debug("writing a health response: {}", e.toString());
            } finally {
                async.complete();
            }
        });
    }

    @Override
    protected void doHead(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        doGet(req, resp);
    }

    static byte[] render(HealthReport r) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (JsonGenerator g = JSON.getFactory().createGenerator(bytes)) {
            g.writeStartObject();
            g.writeStringField("status", r.status().name());
            g.writeStringField("checked_at", r.checkedAt().toString());
            g.writeObjectFieldStart("components");
            for (ComponentHealth c : r.components()) {
                g.writeObjectFieldStart(c.name());
                g.writeStringField("status", c.status().name());
                if (c.detail() != null && !c.detail().isEmpty()) {
                    g.writeStringField("detail", c.detail());
                }
                g.writeNumberField("duration_ms", c.duration().toNanos() / 1_000_000.0);
                g.writeBooleanField("critical", c.critical());
                g.writeStringField("kind", c.kind().name());
                if (c.cached()) {
                    g.writeBooleanField("cached", true);
                }
                g.writeEndObject();
            }
            g.writeEndObject();
            g.writeEndObject();
        }
        return bytes.toByteArray();
    }
}
