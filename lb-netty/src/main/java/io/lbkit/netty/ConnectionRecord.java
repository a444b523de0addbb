package io.lbkit.netty;

import io.lbkit.proxy.AccessLog;
import io.lbkit.proxy.engine.AccessRecord;
import io.lbkit.proxy.engine.StubStatus;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.net.InetSocketAddress;

/**
 * What one client connection reports: its state for {@code stub_status} (waiting, reading a head,
 * writing an answer) and, when the proxy has an access log or meters, the {@link AccessRecord} of its
 * current request, reused by each request of the connection. Runs on the connection's loop.
 */
final class ConnectionRecord {

    private final Engine engine;
    private io.lbkit.proxy.engine.StubCounters status; // the connection's loop's, once it is open
    private AccessLog log;            // the current request's, or null (read per request: a reload may change it)
    private io.lbkit.proxy.ProxyMeters meters; // the current request's, or null
    private AccessRecord kept;        // reused by each request of the connection
    /** The current request's record, or null when the proxy has neither access log nor meters. */
    AccessRecord record;
    private int state = StubStatus.NONE;
    private long headStart;
    private InetSocketAddress peer;
    private String remote;            // the peer's address as text, made when a line first needs it
    private boolean gone;          // counted as closed
    private boolean open;          // a request is recorded and not yet logged

    ConnectionRecord(Engine engine) {
        this.engine = engine;
        this.status = engine.status;
    }

    /** The connection is open on {@code loop}: it waits for a request. */
    void opened(InetSocketAddress peer, io.netty.channel.EventLoop loop) {
        status = engine.counters(loop);
        state = status.opened();
        this.peer = peer;
    }

    /** Bytes of a request head arrived: the request starts (nginx counts it, and times it, from here). */
    void bytesArrived() {
        if (state == StubStatus.WAITING && !gone) {
            state = status.move(state, StubStatus.READING);
            status.request();
            headStart = System.nanoTime();
        }
    }

    /** The request head is read: the request is processed and answered from now on. */
    void head(HttpRequest r) {
        bytesArrived(); // a head that came with the previous request's bytes
        if (!gone) {
            state = status.move(state, StubStatus.WRITING);
        }
        log = engine.config.accessLog();
        meters = engine.config.meters();
        record = null;
        if (log != null || meters != null) {
            if (kept == null) {
                kept = new AccessRecord();
            }
            record = kept;
            if (remote == null) {
                remote = peer.getAddress().getHostAddress();
            }
            record.begin(remote, r.method().name(), r.uri(), r.protocolVersion().text(), null, headStart);
            open = true;
        }
    }

    /**
     * The answer's last bytes are being written: from now the connection no longer counts as
     * writing but as waiting ({@code keepAlive}) or as neither (it closes next), as nginx counts it
     * once its send returned, before a client that has the bytes can ask for the status page.
     */
    void answered(boolean keepAlive) {
        if (!gone && state == StubStatus.WRITING) {
            state = status.move(state, keepAlive ? StubStatus.WAITING : StubStatus.NONE);
        }
    }

    /** The connection waits for its next request (kept alive). */
    void waiting() {
        if (gone) {
            return;
        }
        state = status.move(state, StubStatus.WAITING);
    }

    /** The request is over; {@code answer} is the proxy's own answer (null when a backend's response was relayed). */
    void ended(HttpResponse answer) {
        if (!open) {
            return;
        }
        open = false;
        if (answer != null) {
            record.status(answer.status().code());
            if (answer instanceof FullHttpResponse f) {
                record.bodyBytes(f.content().readableBytes());
            }
        } else if (record.status() == 0) {
            record.status(499); // the client went away before an answer (nginx's 499)
        }
        record.end(System.nanoTime());
        if (log != null) {
            log.log(record);
        }
        if (meters != null) {
            meters.record(record);
        }
    }

    /** The connection closes (or is about to: nginx counts it closed before its close() returns); once. */
    void closed() {
        if (!gone) {
            gone = true;
            status.closed(state);
            state = StubStatus.NONE;
        }
    }
}
