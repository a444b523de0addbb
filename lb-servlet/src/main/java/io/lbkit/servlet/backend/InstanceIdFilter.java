package io.lbkit.servlet.backend;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Adds {@code X-Instance-ID: <id>} to every response, so a client or test can see which
 * backend answered. The id is the configured one, else {@code <hostname>:<local port>}. The header
 * is set before the rest of the chain runs, so it is present on committed and error responses too.
 *
 * <p>web.xml init-params: {@code instance-id}, {@code header-name}.
 */
public final class InstanceIdFilter implements Filter {

    /** Default header name: {@value}. */
    public static final String DEFAULT_HEADER = "X-Instance-ID";

    private String instanceId;
    private String header = DEFAULT_HEADER;
    private String host;

    /** For web.xml: configured in {@link #init}; with no init-param the id is hostname:port. */
    public InstanceIdFilter() {
    }

    /**
     * @param instanceId the id to send, or {@code null} for {@code <hostname>:<local port>}
     * @param header     header name, or {@code null} for {@value #DEFAULT_HEADER}
     */
    public InstanceIdFilter(String instanceId, String header) {
        this.instanceId = check("instanceId", instanceId);
        if (header != null) {
            if (header.isEmpty() || !CookieSupport.isToken(header)) {
                throw new IllegalArgumentException("header must be a header name, got '" + header + "'");
            }
            this.header = header;
        }
    }

    private static String check(String what, String v) {
        if (v != null && (v.isEmpty() || v.chars().anyMatch(c -> c < 0x20 || c == 0x7f))) {
            throw new IllegalArgumentException(what + " must be non-empty printable text, got '" + v + "'");
        }
        return v;
    }

    @Override
    public void init(FilterConfig fc) throws ServletException {
        try {
            String id = fc.getInitParameter("instance-id");
            if (id != null && !id.isBlank()) {
                instanceId = check("instance-id", id.strip());
            }
            String h = fc.getInitParameter("header-name");
            if (h != null && !h.isBlank()) {
                if (!CookieSupport.isToken(h.strip())) {
                    throw new IllegalArgumentException("header-name must be a header name, got '" + h + "'");
                }
                header = h.strip();
            }
        } catch (IllegalArgumentException e) {
            throw new ServletException(e.getMessage(), e);
        }
    }

    private String hostName() {
        String h = host;
        if (h == null) {
            try {
                h = InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                h = "localhost";
            }
            host = h;
        }
        return h;
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse resp, FilterChain chain)
            throws IOException, ServletException {
        if (resp instanceof HttpServletResponse r) {
            r.setHeader(header, instanceId != null ? instanceId : hostName() + ":" + req.getLocalPort());
        }
        chain.doFilter(req, resp);
    }
}
