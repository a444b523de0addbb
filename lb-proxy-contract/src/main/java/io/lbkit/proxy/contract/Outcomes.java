package io.lbkit.proxy.contract;

import io.lbkit.core.Outcome;
import io.lbkit.core.Upstream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** What an upstream's endpoints were told about each attempt, as tests read it. */
public final class Outcomes {

    private Outcomes() {
    }

    /**
     * Records every completed attempt of {@code up}: endpoint id → outcomes in order, each
     * {@code RESPONSE <status>} or the outcome's name.
     */
    public static Map<String, List<String>> record(Upstream up) {
        Map<String, List<String>> seen = new ConcurrentHashMap<>();
        up.setOutcomeListener((endpoint, outcome, status, latencyNanos, failure) -> seen
                .computeIfAbsent(endpoint.id(), k -> new CopyOnWriteArrayList<>())
                .add(outcome == Outcome.RESPONSE ? outcome + " " + status : outcome.toString()));
        return seen;
    }
}
