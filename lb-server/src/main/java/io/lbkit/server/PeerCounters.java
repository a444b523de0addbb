package io.lbkit.server;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Outcome;
import io.lbkit.core.OutcomeListener;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per-endpoint attempt counters for the upstream status JSON (nginx Plus's {@code requests},
 * {@code responses}, {@code fails}, {@code selected}, {@code response_time}): an
 * {@link OutcomeListener} in front of the upstream's health monitor, which it calls first.
 * Counting takes a map lookup and a few striped-counter increments per completed attempt,
 * nothing allocated (but the first time an endpoint id is seen); the admin listener installs it.
 * Counters are kept by endpoint id, so they survive reloads and re-weighting.
 */
final class PeerCounters {

    /** One endpoint's counters. */
    static final class Peer {
        final LongAdder attempts = new LongAdder();
        final LongAdder[] byClass = {new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder()};
        final LongAdder failures = new LongAdder();
        final LongAdder responseNanos = new LongAdder();
        final LongAdder responses = new LongAdder();
        /** Response latencies by {@link LatencyBuckets} bucket (the dashboard's percentiles). */
        final LongAdder[] latency = LatencyBuckets.newCounters();
        volatile long lastCompletedMillis;
    }

    private final ConcurrentHashMap<String, Peer> peers = new ConcurrentHashMap<>();

    /** A listener that counts, then hands every outcome to {@code next} (the health monitor). */
    OutcomeListener wrap(OutcomeListener next) {
        return new OutcomeListener() {
            @Override
            public void onOutcome(Endpoint endpoint, Outcome outcome, int status, long latencyNanos, boolean failure) {
                count(endpoint, outcome, status, latencyNanos, failure);
                next.onOutcome(endpoint, outcome, status, latencyNanos, failure);
            }

            @Override
            public void onOutcome(Endpoint endpoint, Object attachment, Outcome outcome, int status, long latencyNanos,
                                  boolean failure) {
                count(endpoint, outcome, status, latencyNanos, failure);
                next.onOutcome(endpoint, attachment, outcome, status, latencyNanos, failure);
            }
        };
    }

    private void count(Endpoint endpoint, Outcome outcome, int status, long latencyNanos, boolean failure) {
        if (outcome == Outcome.CANCELLED) {
            return; // the client went away or the proxy stopped: not the endpoint's doing
        }
        Peer p = peers.get(endpoint.id());
        if (p == null) {
            p = peers.computeIfAbsent(endpoint.id(), k -> new Peer());
        }
        p.attempts.increment();
        if (failure) {
            p.failures.increment();
        }
        if (outcome == Outcome.RESPONSE && status >= 100 && status <= 599) {
            p.byClass[status / 100 - 1].increment();
            p.responses.increment();
            p.responseNanos.add(latencyNanos);
            p.latency[LatencyBuckets.index(latencyNanos)].increment();
        }
        long now = System.currentTimeMillis();
        if (p.lastCompletedMillis != now) {
            p.lastCompletedMillis = now; // once a millisecond: both event loops would otherwise write the line on every attempt
        }
    }

    /** The counters of {@code id}, or null when no attempt on it has completed. */
    Peer get(String id) {
        return peers.get(id);
    }
}
