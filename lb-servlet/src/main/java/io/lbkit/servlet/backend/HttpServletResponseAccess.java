package io.lbkit.servlet.backend;

import jakarta.servlet.ServletResponse;
import jakarta.servlet.ServletResponseWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Answers a save failure during {@code AsyncContext.complete()}. */
final class HttpServletResponseAccess {
    private static final Logger log = LoggerFactory.getLogger(HttpServletResponseAccess.class);

    private HttpServletResponseAccess() {
    }

    static void answer(RuntimeException e, ServletResponse resp) {
        ServletResponse r = resp;
        while (r instanceof SessionResponse sr) {
            r = sr.getResponse();
        }
        while (!(r instanceof HttpServletResponse) && r instanceof ServletResponseWrapper w) {
            r = w.getResponse();
        }
        try {
            if (!(r instanceof HttpServletResponse hr) || !SessionFilter.answerFailure(e, hr)) {
                log.warn("session save on async completion failed", e);
            }
        } catch (IOException io) {
            log.warn("cannot answer session failure: {}", io.toString());
        }
    }
}
