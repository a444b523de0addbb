package io.lbkit.servlet.proxy;

import io.lbkit.proxy.engine.AddedHeaderRules;
import io.lbkit.proxy.engine.HeaderSink;
import io.lbkit.proxy.engine.Headers;
import io.lbkit.proxy.engine.RequestHeaderRules;
import io.lbkit.proxy.engine.ResponseHeaderRules;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client response of a {@link ProxyExchange} that relays a backend response: the head
 * ({@link #writeHead}: status, the response header rules, framing, trailers, the tier fields, and
 * the session's fields once the store saved the backend's session data) and the body
 * ({@link #stream}: from the Jetty client's content source to the servlet output with
 * non-blocking I/O, read only when the output is ready, so a slow client slows the backend).
 *
 * <p>Threads: {@link #writeHead} runs on the HTTP client thread of the attempt's response head
 * (then on the session store's thread once the save completes); {@link #stream} and the source's
 * demand callbacks on HTTP client threads; {@link #onWritePossible} and {@link #onError} on
 * container threads. The pump is serialized by {@code wip} (one thread at a time runs it, a call
 * meanwhile makes it loop once more), so the fields it alone touches need no lock; what the other
 * threads hand over ({@code source}, {@code out}, {@code demanding}) is volatile. A failure of the
 * client's side goes to {@link ProxyExchange#clientFailed}; the end of the body to
 * {@link ClientEnd#complete}.
 */
final class ClientResponse implements WriteListener {

    private static final Logger log = LoggerFactory.getLogger(ClientResponse.class);

    private final ProxyExchange ex;
    private final HttpServletRequest req;
    private final HttpServletResponse resp;

    // pump state, serialized by wip
    private final AtomicInteger wip = new AtomicInteger();
    private volatile Content.Source source;
    private volatile ServletOutputStream out;
    private volatile boolean demanding;
    private boolean eofRead;
    private boolean needFlush;
    private boolean commitBeforeEnd;
    // a chunk whose bytes the servlet output may still hold: released once, by the pump when the
    // output is ready again, or when the async cycle completes (an exchange that ended early)
    private final AtomicReference<Content.Chunk> written = new AtomicReference<>();

    /** The backend's whole response was read and handed to the client. */
    private volatile boolean responseReceived;

    ClientResponse(ProxyExchange ex) {
        this.ex = ex;
        this.req = ex.req;
        this.resp = ex.resp;
    }

    /** Whether the output was opened: the head is (being) written, an error can only abort. */
    boolean started() {
        return out != null;
    }

    /** Whether the backend's whole response was read and handed to the client. */
    boolean received() {
        return responseReceived;
    }

    // =====================================================================================
    // the head
    // =====================================================================================

    /** Writes the status and header fields of the backend response {@code r}, then opens the output. */
    void writeHead(BackendAttempt a, Response r) throws IOException {
        HttpFields h = r.getHeaders();
        resp.setStatus(r.getStatus());
        Set<String> conn = Headers.connectionTokens(h.getValuesList(HttpHeader.CONNECTION));
        List<String> vias = null;
        boolean jetty = ClientAbort.isJetty(resp);
        for (HttpField f : h) {
            String name = f.getName();
            String lower = name.toLowerCase(Locale.ROOT);
            if (lower.equals("via")) {
                if (vias == null) {
                    vias = new ArrayList<>(2);
                }
                vias.add(f.getValue());
            } else if (ResponseHeaderRules.copied(name, lower, conn) && !(jetty && lower.equals("date"))
                    && (ex.session == null || !ex.filter.sessions().hidesResponseField(name))) {
                resp.addHeader(name, f.getValue()); // Jetty always writes its own Date
            }
        }
        String via = ResponseHeaderRules.via(ex.config, vias, r.getVersion() == null ? null : r.getVersion().asString());
        if (via != null) {
            resp.setHeader("Via", via);
        }
        long cl = h.getLongField(HttpHeader.CONTENT_LENGTH);
        if (cl >= 0 && r.getStatus() != 204 && r.getStatus() >= 200) {
            // a 204 has no content whatever its Content-Length says (RFC 9110 section 8.6); passing
            // the field on would make the container wait for bytes that never come
            resp.setContentLengthLong(cl);
        }
        String declaredTrailers = h.get(HttpHeader.TRAILER);
        int st = r.getStatus();
        boolean mayHaveBody = st >= 200 && st != 204 && st != 304 && !"HEAD".equals(req.getMethod());
        // a response without a body whose length the backend did not give: commit it before the end,
        // or the container adds "Content-Length: 0" (Jetty does), which on a 304 or a HEAD answer
        // states a representation length of 0 (RFC 9110 sections 8.6, 9.3.2)
        commitBeforeEnd = !mayHaveBody && cl < 0;
        if (cl < 0 && mayHaveBody && jetty && "HTTP/1.1".equals(req.getProtocol())) {
            // Jetty answers a client that sent Connection: close with a body delimited by the close;
            // a backend failure mid-body would then look like a complete response. Chunked framing
            // (nginx keeps it too) leaves the last chunk missing, so the client sees the cut
            resp.setHeader("Transfer-Encoding", "chunked");
        }
        if (cl < 0 && mayHaveBody && (declaredTrailers != null || RequestHeaderRules.acceptsTrailers(ex.view))
                && !"HTTP/1.0".equals(req.getProtocol())) {
            if (declaredTrailers != null) {
                resp.setHeader("Trailer", declaredTrailers);
            }
            try {
                resp.setTrailerFields(() -> backendTrailers(r));
            } catch (IllegalStateException e) {
                log.debug("proxy {} {}: the container takes no trailer fields: {}", req.getMethod(),
                        req.getRequestURI(), e.toString());
            }
        }
        ResponseHeaderRules.addTierFields(ex.config, a.endpoint.id(), ex.sticky, ex.secure,
                new HeaderSink() {
                    @Override
                    public void add(String name, String value) {
                        resp.addHeader(name, value);
                    }

                    @Override
                    public void set(String name, String value) {
                        resp.setHeader(name, value);
                    }
                });
        AddedHeaderRules.apply(ex.config, ex.route, st, req.getScheme(), ServletFields.sink(resp));
        CompletionStage<?> saving = ex.session == null ? null : ex.session.save(ServletFields.of(h));
        if (saving == null) {
            openOutput();
        } else {
            saving.whenComplete((v, x) -> {
                try {
                    if (!ex.end.finished()) {
                        ex.session.addResponseFields(ServletFields.sink(resp));
                        openOutput();
                    }
                } catch (IOException | RuntimeException e) {
                    ex.clientFailed(e);
                }
            });
        }
    }

    private void openOutput() throws IOException {
        ServletOutputStream o = resp.getOutputStream();
        out = o;
        o.setWriteListener(this);
    }

    /** The backend's response trailer fields, for the client (asked for when the response ends). */
    private static Map<String, String> backendTrailers(Response r) {
        HttpFields t = r.getTrailers();
        if (t == null || t.size() == 0) {
            return Map.of();
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (HttpField f : t) {
            if (Headers.isForwardableTrailer(f.getName())) {
                out.merge(f.getName(), f.getValue(), (x, y) -> x + ", " + y);
            }
        }
        return out;
    }

    // =====================================================================================
    // the body
    // =====================================================================================

    /** Streams the backend response's body from {@code src} as the client's output takes it. */
    void stream(Content.Source src) {
        source = src;
        pump();
    }

    @Override
    public void onWritePossible() {
        pump();
    }

    @Override
    public void onError(Throwable t) {
        ex.clientFailed(t);
    }

    private void pump() {
        if (wip.getAndIncrement() != 0) {
            return;
        }
        do {
            try {
                pumpOnce();
            } catch (Throwable t) {
                ex.clientFailed(t);
            }
        } while (wip.decrementAndGet() != 0);
    }

    private void pumpOnce() throws IOException {
        Content.Source src = source;
        ServletOutputStream o = out;
        if (src == null || o == null || ex.end.finished()) {
            return;
        }
        while (true) {
            if (!o.isReady()) {
                return; // onWritePossible resumes
            }
            releaseWritten(); // the output is done with the last chunk's bytes
            if (eofRead) {
                if (needFlush || commitBeforeEnd) {
                    needFlush = false;
                    commitBeforeEnd = false;
                    o.flush();
                    continue;
                }
                responseReceived = true;
                ex.end.complete();
                return;
            }
            if (demanding) {
                return;
            }
            Content.Chunk c = src.read();
            if (c == null) {
                if (needFlush) {
                    needFlush = false; // nothing more right now: push what we have (SSE, slow streams)
                    o.flush();
                    continue;
                }
                demanding = true;
                src.demand(() -> {
                    demanding = false;
                    pump();
                });
                return;
            }
            if (Content.Chunk.isFailure(c)) {
                if (c.isLast()) {
                    return; // the attempt's onComplete aborts the client
                }
                continue; // transient failure (idle timeout of a read): Jetty fails the exchange itself
            }
            ByteBuffer bb = c.getByteBuffer();
            int n = bb.remaining();
            boolean last = c.isLast();
            if (n > 0 && ex.rec != null) {
                ex.rec.bodyBytes(n);
            }
            if (n > 0) {
                if (bb.hasArray()) {
                    // no copy: the output may keep a reference to the array until it is ready
                    // again, so the chunk is released only then (releaseWritten)
                    written.set(c);
                    o.write(bb.array(), bb.arrayOffset() + bb.position(), n);
                } else {
                    byte[] copy = new byte[n];
                    bb.get(copy);
                    c.release();
                    o.write(copy, 0, n);
                }
                needFlush = true;
            } else {
                c.release();
            }
            if (last) {
                eofRead = true;
            }
        }
    }

    /** Releases the chunk whose bytes the output may hold (the output is ready again, or the exchange is over). */
    void releaseWritten() {
        Content.Chunk c = written.getAndSet(null);
        if (c != null) {
            c.release();
        }
    }
}
