package io.lbkit.proxy.engine;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.LongAdder;

/**
 * The connection and request counters of nginx's {@code stub_status}, kept by an engine with no
 * lock, and their text, byte for byte as nginx writes it:
 *
 * <pre>
 * Active connections: 2 \n
 * server accepts handled requests\n
 *  7 7 11 \n
 * Reading: 0 Writing: 1 Waiting: 1 \n
 * </pre>
 *
 * A connection is in one state at a time: {@link #WAITING} (open, no request under way: a new or
 * kept-alive connection), {@link #READING} (a request head is arriving), {@link #WRITING} (a
 * request is processed and answered, the status request itself included), or {@link #NONE}. The
 * engine moves it with {@link #move} and keeps its state in one field of the connection.
 */
public final class StubStatus {

    public static final int NONE = 0;
    public static final int WAITING = 1;
    public static final int READING = 2;
    public static final int WRITING = 3;

    private final LongAdder accepts = new LongAdder();
    private final LongAdder handled = new LongAdder();
    private final LongAdder active = new LongAdder();
    private final LongAdder requests = new LongAdder();
    private final LongAdder[] states = {null, new LongAdder(), new LongAdder(), new LongAdder()};

    /** A connection was accepted and will be served: it starts {@link #WAITING}. */
    public int opened() {
        accepts.increment();
        handled.increment();
        active.increment();
        return move(NONE, WAITING);
    }

    /** The connection in state {@code state} closed. */
    public void closed(int state) {
        move(state, NONE);
        active.decrement();
    }

    /** A request started (nginx counts it when its first bytes are read). */
    public void request() {
        requests.increment();
    }

    /** Moves a connection from {@code from} to {@code to}; returns {@code to}. */
    public int move(int from, int to) {
        if (from != to) {
            if (from != NONE) {
                states[from].decrement();
            }
            if (to != NONE) {
                states[to].increment();
            }
        }
        return to;
    }

    /** The page's text (US-ASCII). */
    public String text() {
        return "Active connections: " + active.sum() + " \n"
                + "server accepts handled requests\n"
                + " " + accepts.sum() + " " + handled.sum() + " " + requests.sum() + " \n"
                + "Reading: " + states[READING].sum() + " Writing: " + states[WRITING].sum()
                + " Waiting: " + states[WAITING].sum() + " \n";
    }

    /** {@link #text()} as bytes. */
    public byte[] bytes() {
        return text().getBytes(StandardCharsets.US_ASCII);
    }

    /** nginx serves it as {@code text/plain}. */
    public static final String CONTENT_TYPE = "text/plain";
}
