package io.lbkit.servlet.backend;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A small application behind the filter. {@code op}: set (k, v), get, none, invalidate, rotate,
 * async (k, v: set on another thread, then complete), big (k, v: set, then stream 256 KiB with
 * flushes). Answers {@code id=<id or none> new=<bool> attrs={...}}.
 */
final class AppServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String op = req.getParameter("op");
        String k = req.getParameter("k");
        String v = req.getParameter("v");
        switch (op == null ? "get" : op) {
            case "set" -> req.getSession().setAttribute(k, v);
            case "remove" -> req.getSession().removeAttribute(k);
            case "none" -> { }
            case "append" -> {
                HttpSession s = req.getSession();
                @SuppressWarnings("unchecked")
                List<Object> list = (List<Object>) s.getAttribute(k);
                if (list == null) {
                    s.setAttribute(k, new java.util.ArrayList<>(List.of(v)));
                } else {
                    list.add(v); // in-place mutation, no setAttribute
                }
            }
            case "invalidate" -> {
                HttpSession s = req.getSession(false);
                if (s != null) {
                    s.invalidate();
                }
            }
            case "rotate" -> {
                req.getSession().setAttribute(k == null ? "rotated" : k, "yes");
                req.changeSessionId();
            }
            case "async" -> {
                AsyncContext ac = req.startAsync();
                HttpSession s = req.getSession();
                Thread t = new Thread(() -> {
                    try {
                        s.setAttribute(k, v);
                        HttpServletResponse r = (HttpServletResponse) ac.getResponse();
                        r.setContentType("text/plain;charset=UTF-8");
                        r.getWriter().write(describe(req));
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    } finally {
                        ac.complete();
                    }
                }, "async-app");
                t.start();
                return;
            }
            case "interval0" -> { // "never" interval, an early save, then read it back
                HttpSession s = req.getSession();
                s.setAttribute(k, v);
                s.setMaxInactiveInterval(0);
                resp.setContentType("text/plain;charset=UTF-8");
                resp.flushBuffer(); // commits: the filter saves (beforeCommit)
                resp.getWriter().write("interval=" + s.getMaxInactiveInterval());
                return;
            }
            case "big" -> {
                req.getSession().setAttribute(k, v);
                resp.setContentType("application/octet-stream");
                OutputStream out = resp.getOutputStream();
                byte[] chunk = new byte[16 * 1024];
                for (int i = 0; i < 16; i++) {
                    out.write(chunk);
                    out.flush();
                }
                return;
            }
            default -> { }
        }
        resp.setContentType("text/plain;charset=UTF-8");
        resp.getWriter().write(describe(req));
    }

    static String describe(HttpServletRequest req) {
        HttpSession s = req.getSession(false);
        if (s == null) {
            return "id=none";
        }
        Map<String, Object> attrs = new TreeMap<>();
        for (String n : Collections.list(s.getAttributeNames())) {
            attrs.put(n, s.getAttribute(n));
        }
        return "id=" + s.getId() + " new=" + s.isNew() + " attrs=" + attrs;
    }

    static List<String> lines(byte[] b) {
        return List.of(new String(b, StandardCharsets.UTF_8).split("\n"));
    }
}
