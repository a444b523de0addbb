package io.lbkit.servlet.proxy;

import io.lbkit.proxy.engine.ClientRequest;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Collections;
import java.util.Enumeration;

/**
 * The servlet request as the proxy rules read it: a view, nothing copied but the in-application
 * path. Public for lbkit's own servlets (the session API), not an API of its own.
 */
public final class ServletClientRequest implements ClientRequest {

    private final HttpServletRequest req;
    private final String path;

    public ServletClientRequest(HttpServletRequest req) {
        this.req = req;
        this.path = inApplicationPath(req);
    }

    /** The decoded, normalized path inside the application: servlet path + path info ({@code /} when empty). */
    private static String inApplicationPath(HttpServletRequest req) {
        String p = req.getServletPath();
        String info = req.getPathInfo();
        if (info != null) {
            p = p.isEmpty() ? info : p + info;
        }
        return p.isEmpty() ? "/" : p;
    }

    HttpServletRequest servletRequest() {
        return req;
    }

    @Override
    public String method() {
        return req.getMethod();
    }

    @Override
    public String protocol() {
        return req.getProtocol();
    }

    @Override
    public Iterable<String> headerNames() {
        Enumeration<String> e = req.getHeaderNames();
        return e == null ? Collections.emptyList() : e::asIterator;
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public String rawPath() {
        return req.getRequestURI();
    }

    @Override
    public String query() {
        return req.getQueryString();
    }

    @Override
    public String serverName() {
        return req.getServerName();
    }

    @Override
    public String remoteAddress() {
        return req.getRemoteAddr();
    }

    @Override
    public String header(String name) {
        return req.getHeader(name);
    }

    @Override
    public Iterable<String> headers(String name) {
        Enumeration<String> e = req.getHeaders(name);
        return e == null ? Collections.emptyList() : e::asIterator;
    }

    @Override
    public String contentType() {
        return req.getContentType();
    }
}
