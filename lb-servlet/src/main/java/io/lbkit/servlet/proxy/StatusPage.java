package io.lbkit.servlet.proxy;

import io.lbkit.proxy.engine.StubStatus;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * nginx's {@code stub_status} page on the filter's {@code statusPath}: GET and HEAD, else 405. The
 * caller counts (and logs) the request as any other, so the page counts itself, as nginx's does.
 */
final class StatusPage {

    private StatusPage() {
    }

    static void answer(StubStatus status, HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String m = req.getMethod();
        if (!m.equals("GET") && !m.equals("HEAD")) {
            resp.setStatus(405);
            resp.setHeader("Allow", "GET, HEAD");
            resp.setContentLength(0);
            return;
        }
        byte[] body = status.bytes();
        resp.setStatus(200);
        resp.setContentType(StubStatus.CONTENT_TYPE);
        resp.setContentLength(body.length);
        if (m.equals("GET")) {
            resp.getOutputStream().write(body);
        }
    }
}
