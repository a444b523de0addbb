package io.lbkit.proxy.engine;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLongArray;
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
 *
 * <p>The methods here count from any thread (striped counters). An engine whose connections each
 * stay on one thread (an event loop) takes {@link #owned()} counters per thread instead: plain
 * stores by their one writer, summed into the page when it is read, so that counting a request
 * costs no atomic operation and no cache line shared between the loops.
 */
public final class StubStatus implements StubCounters {

    /**
     * Counters one thread writes (an event loop's): slots accepts, handled, active, requests, then
     * one per state, each stored by the owner alone ({@code lazySet}) and read by the page.
     */
    public static final class Owned implements StubCounters {
        private static final int ACCEPTS = 0;
        private static final int HANDLED = 1;
        private static final int ACTIVE = 2;
        private static final int REQUESTS = 3;
        private static final int STATE = 4; // + the state: WAITING 5, READING 6, WRITING 7
        private final AtomicLongArray c = new AtomicLongArray(8);

        private Owned() {
        }

        private void add(int slot, long d) {
            c.lazySet(slot, c.get(slot) + d); // one writer: no read-modify-write race
        }

        @Override
        public int opened() {
            add(ACCEPTS, 1);
            add(HANDLED, 1);
            add(ACTIVE, 1);
            return move(NONE, WAITING);
        }

        @Override
        public void closed(int state) {
            move(state, NONE);
            add(ACTIVE, -1);
        }

        @Override
        public void request() {
            add(REQUESTS, 1);
        }

        @Override
        public int move(int from, int to) {
            if (from != to) {
                if (from != NONE) {
                    add(STATE + from, -1);
                }
                if (to != NONE) {
                    add(STATE + to, 1);
                }
            }
            return to;
        }
    }

    private final CopyOnWriteArrayList<Owned> owned = new CopyOnWriteArrayList<>();

    /** New counters for one thread to write alone; the page adds them in. */
    public Owned owned() {
        Owned o = new Owned();
        owned.add(o);
        return o;
    }

    private long sum(LongAdder shared, int slot) {
        long n = shared.sum();
        for (Owned o : owned) {
            n += o.c.get(slot);
        }
        return n;
    }

    public static final int NONE = 0;
    public static final int WAITING = 1;
    public static final int READING = 2;
    public static final int WRITING = 3;

    private final LongAdder accepts = new LongAdder();
    private final LongAdder handled = new LongAdder();
    private final LongAdder active = new LongAdder();
    private final LongAdder requests = new LongAdder();
    private final LongAdder[] states = {null, new LongAdder(), new LongAdder(), new LongAdder()};

    @Override
    public int opened() {
        accepts.increment();
        handled.increment();
        active.increment();
        return move(NONE, WAITING);
    }

    @Override
    public void closed(int state) {
        move(state, NONE);
        active.decrement();
    }

    @Override
    public void request() {
        requests.increment();
    }

    @Override
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

    /** Client connections open now (the page's {@code Active connections}). */
    public long active() {
        return sum(active, Owned.ACTIVE);
    }

    /** The page's text (US-ASCII). */
    public String text() {
        return "Active connections: " + sum(active, Owned.ACTIVE) + " \n"
                + "server accepts handled requests\n"
                + " " + sum(accepts, Owned.ACCEPTS) + " " + sum(handled, Owned.HANDLED) + " "
                + sum(requests, Owned.REQUESTS) + " \n"
                + "Reading: " + sum(states[READING], Owned.STATE + READING) + " Writing: "
                + sum(states[WRITING], Owned.STATE + WRITING) + " Waiting: " + sum(states[WAITING], Owned.STATE + WAITING)
                + " \n";
    }

    /** {@link #text()} as bytes. */
    public byte[] bytes() {
        return text().getBytes(StandardCharsets.US_ASCII);
    }

    /** nginx serves it as {@code text/plain}. */
    public static final String CONTENT_TYPE = "text/plain";
}
