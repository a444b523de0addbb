package io.lbkit.proxy;

import io.lbkit.core.Upstream;
import io.lbkit.core.split.TrafficSplit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Canary routing for a route: requests go to the canary {@link Upstream} instead of the route's
 * own when a request value says so ({@code X-Canary: 1}, cookie {@code canary=1}), else a share of
 * them by percentage, as nginx's {@code split_clients} (seed 004's {@code 10% "backend_new"}) with
 * lb-core's {@link TrafficSplit}: the same key always lands on the same side. Immutable; set with
 * {@link Route.Builder#canary}.
 *
 * <pre>{@code
 * Canary canary = Canary.builder(newVersion)
 *         .when(RequestValue.header("X-Canary"), "1")
 *         .when(RequestValue.cookie("canary"), "1")
 *         .percent("10%", RequestValue.clientIp())  // split_clients "$remote_addr" { 10% new; * stable; }
 *         .build();
 * Route.builder("web", stable).canary(canary).build();
 * }</pre>
 *
 * <p>Conditions are checked first, in order; a value compares exactly, as received. The split's key
 * is read as received too (a missing value is the empty string, as nginx's variables); the client
 * address is the peer's.
 */
public final class Canary {

    /** A request value that sends a request to the canary when it equals {@code value}. */
    public record Condition(RequestValue source, String value) {
    }

    private final Upstream upstream;
    private final List<Condition> conditions;
    private final TrafficSplit<Boolean> split;
    private final RequestValue splitKey;
    private final String percent;

    private Canary(Builder b) {
        this.upstream = b.upstream;
        this.conditions = List.copyOf(b.conditions);
        this.split = b.percent == null ? null
                : TrafficSplit.<Boolean>builder().part(b.percent, Boolean.TRUE).rest(Boolean.FALSE).build();
        this.splitKey = b.splitKey;
        this.percent = b.percent;
    }

    /** A builder for a canary on {@code upstream}. */
    public static Builder builder(Upstream upstream) {
        return new Builder(upstream);
    }

    /** The canary upstream. */
    public Upstream upstream() {
        return upstream;
    }

    /** The conditions that send a request to the canary, in order. */
    public List<Condition> conditions() {
        return conditions;
    }

    /** The share of the other requests that go to the canary ({@code 10%}), or null for none. */
    public String percent() {
        return percent;
    }

    /** The value the percentage split hashes, or null when there is no split. */
    public RequestValue splitKey() {
        return splitKey;
    }

    /** Whether a request whose split key is {@code key} (null: empty) falls in the canary's share. */
    public boolean inShare(CharSequence key) {
        return split != null && split.selectOrElse(key == null ? "" : key, Boolean.FALSE);
    }

    @Override
    public String toString() {
        return "Canary[" + upstream.name() + ", " + conditions + (percent == null ? "" : ", " + percent) + "]";
    }

    /** Builder for {@link Canary}; each call validates its arguments. */
    public static final class Builder {
        private final Upstream upstream;
        private final List<Condition> conditions = new ArrayList<>();
        private String percent;
        private RequestValue splitKey;

        private Builder(Upstream upstream) {
            this.upstream = Objects.requireNonNull(upstream, "upstream");
        }

        /** Requests whose {@code source} equals {@code value} go to the canary. */
        public Builder when(RequestValue source, String value) {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(value, "value");
            if (source.needsBody()) {
                throw new IllegalArgumentException("a canary condition cannot read the request body, got " + source);
            }
            conditions.add(new Condition(source, value));
            return this;
        }

        /**
         * This share of the requests no condition sent (nginx percent syntax: {@code 10%},
         * {@code 0.5%}) go to the canary, chosen by {@code key} as nginx's {@code split_clients}.
         */
        public Builder percent(String percent, RequestValue key) {
            Objects.requireNonNull(key, "key");
            if (key.needsBody()) {
                throw new IllegalArgumentException("a canary split key cannot read the request body, got " + key);
            }
            TrafficSplit.<Boolean>builder().part(percent, Boolean.TRUE).rest(Boolean.FALSE).build(); // validates
            this.percent = percent;
            this.splitKey = key;
            return this;
        }

        public Canary build() {
            if (conditions.isEmpty() && percent == null) {
                throw new IllegalArgumentException("canary '" + upstream.name() + "': needs a condition or a percent");
            }
            return new Canary(this);
        }
    }
}
