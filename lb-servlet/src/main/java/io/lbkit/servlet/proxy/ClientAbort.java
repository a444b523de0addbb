package io.lbkit.servlet.proxy;

import jakarta.servlet.ServletResponse;
import jakarta.servlet.ServletResponseWrapper;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes the client connection without finishing the response, so a client never takes a
 * truncated body for a complete one. The Servlet API has no such call; each container has its
 * own: Jetty 12 aborts on {@code sendError(-1)}, Tomcat through its coyote response's
 * {@code CLOSE_NOW} action (reached by reflection; Tomcat is not a compile dependency).
 */
final class ClientAbort {

    private static final Logger log = LoggerFactory.getLogger(ClientAbort.class);

    private ClientAbort() {
    }

    /** Whether {@code response} belongs to Jetty (which adds its own Date and Server headers). */
    static boolean isJetty(ServletResponse response) {
        ServletResponse r = response;
        while (r instanceof ServletResponseWrapper w) {
            r = w.getResponse();
        }
        return r.getClass().getName().startsWith("org.eclipse.jetty.");
    }

    /** Returns true when the container closed the connection. */
    static boolean abort(ServletResponse response) {
        ServletResponse r = response;
        while (r instanceof ServletResponseWrapper w) {
            r = w.getResponse();
        }
        String cls = r.getClass().getName();
        try {
            if (cls.startsWith("org.eclipse.jetty.")) {
                ((jakarta.servlet.http.HttpServletResponse) r).sendError(-1);
                return true;
            }
            if (cls.startsWith("org.apache.catalina.")) {
                Object connectorResponse = r;
                if (cls.equals("org.apache.catalina.connector.ResponseFacade")) {
                    Field f = r.getClass().getDeclaredField("response");
                    f.setAccessible(true);
                    connectorResponse = f.get(r);
                }
                Object coyote = connectorResponse.getClass().getMethod("getCoyoteResponse").invoke(connectorResponse);
                Class<?> actionCode = Class.forName("org.apache.coyote.ActionCode", false,
                        coyote.getClass().getClassLoader());
                Object closeNow = actionCode.getField("CLOSE_NOW").get(null);
                Method action = coyote.getClass().getMethod("action", actionCode, Object.class);
                action.invoke(coyote, closeNow, null);
                return true;
            }
        } catch (Exception | LinkageError e) {
            log.debug("container abort failed for {}", cls, e);
        }
        log.warn("cannot abort the client connection on {}; the response may look complete", cls);
        return false;
    }
}
