package io.lbkit.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A named pool of endpoints with a balancing policy: the equivalent of an nginx {@code upstream}
 * block.
 *
 * <p><b>Data plane.</b> {@link #pick(PickRequest)} returns a {@link Selection} that the caller
 * {@linkplain Selection#complete completes} with the outcome. Picks read an immutable snapshot
 * through one volatile field: they never take a lock, never see a half-applied change, and
 * allocate nothing.
 *
 * <p><b>Control plane.</b> Membership, weights, administrative state and health change through
 * the methods below. Each change is applied under a lock (changes are serialized) and publishes a
 * new snapshot. Per-endpoint live state (in flight, failures, latency averages) lives in members
 * that survive snapshots. Once a method such as {@link #remove} returns, no later pick returns the
 * removed endpoint.
 */
public final class Upstream {

    private static final VarHandle IRREGULAR;
    private static final VarHandle TOTAL;
    private static final VarHandle SLOW_UNTIL;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            IRREGULAR = l.findVarHandle(Upstream.class, "irregular", int.class);
            TOTAL = l.findVarHandle(Upstream.class, "totalInFlight", int.class);
            SLOW_UNTIL = l.findVarHandle(Upstream.class, "slowStartUntil", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final PickRequest NO_CONTEXT = new PickRequest();

    private final String name;
    private final BalancingPolicy policy;
    final Ticker ticker;
    private final boolean[] failureStatus = new boolean[600];
    private final SlowStart slowStart;
    private volatile int panicThresholdPercent; // written under lock
    private final boolean trackTotal;
    private final boolean needsResponseTime;
    private final double peakDecay;

    private final Object lock = new Object();
    private final LinkedHashMap<String, Member> members = new LinkedHashMap<>(); // guarded by lock
    private volatile Snapshot snapshot;
    private volatile OutcomeListener listener;

    /**
     * Irregular conditions (banned, degraded effective weight, at connection cap) over the usable
     * members; while it is zero, round robin runs its O(1) path. Maintained by {@link Member}'s
     * flag transitions.
     */
    volatile int irregular;
    volatile int totalInFlight;
    volatile long slowStartUntil = Long.MIN_VALUE;

    private Upstream(Builder b) {
        this.name = b.name;
        this.policy = b.policy;
        this.ticker = b.ticker;
        for (int s : b.failureStatuses) {
            failureStatus[s] = true;
        }
        this.slowStart = b.slowStart;
        this.panicThresholdPercent = b.panicThresholdPercent;
        this.trackTotal = policy.tracksTotalInFlight();
        this.needsResponseTime = policy.needsResponseTime();
        this.peakDecay = policy.peakDecayNanos();
        synchronized (lock) {
            for (Endpoint e : b.endpoints) {
                members.put(e.id(), new Member(this, e, !policy.readsInFlight()));
            }
            publish();
        }
    }

    /** A builder for an upstream called {@code name}. */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    public String name() {
        return name;
    }

    public BalancingPolicy policy() {
        return policy;
    }

    // =====================================================================================
    // data plane
    // =====================================================================================

    /** Picks an endpoint for a request without hash key, address or preference. */
    public Selection pick() {
        return pick(NO_CONTEXT);
    }

    /**
     * Picks an endpoint for {@code request}. Never returns null: when nothing can serve, the
     * selection says why ({@link Selection#reason()}).
     */
    public Selection pick(PickRequest request) {
        Snapshot s = snapshot;
        if (s.empty) {
            return Selection.NoEndpointReason.EMPTY.selection;
        }
        boolean slow = false;
        long ssu = slowStartUntil;
        if (ssu != Long.MIN_VALUE) {
            if (ticker.nanos() - ssu < 0) {
                slow = true;
            } else {
                SLOW_UNTIL.compareAndSet(this, ssu, Long.MIN_VALUE);
            }
        }
        boolean lostRace = false;
        for (int attempt = 0; attempt < 4; attempt++) {
            Member m = null;
            String preferred = request.preferredId();
            if (preferred != null) {
                m = s.preferred(preferred, request);
            }
            if (m == null) {
                m = s.primary == null ? null : s.primary.pick(request, slow);
            }
            if (m == null && s.backup != null) {
                m = s.backup.pick(request, slow);
            }
            if (m == null) {
                break;
            }
            if (!m.acquire()) {
                lostRace = true;
                continue; // lost a race for the last connection slot: choose again
            }
            if (trackTotal) {
                TOTAL.getAndAdd(this, 1);
            }
            if (m.fails != 0) {
                m.touchChecked(ticker.nanos());
            }
            return m;
        }
        if (!lostRace) {
            // nginx: "all peers failed, mark them as live for quick recovery"
            for (Member m : s.all) {
                if (m.fails != 0) {
                    m.clearFails();
                }
            }
        }
        return request.triedCount() > 0 ? Selection.NoEndpointReason.ALL_TRIED.selection
                : Selection.NoEndpointReason.NONE_AVAILABLE.selection;
    }

    void completed(Member m, Outcome outcome, int status, long latencyNanos) {
        m.release();
        if (trackTotal) {
            TOTAL.getAndAdd(this, -1);
        }
        boolean failure;
        if (outcome == Outcome.CANCELLED) {
            failure = false;
        } else {
            failure = outcome.isTransportFailure()
                    || (outcome == Outcome.RESPONSE && status >= 0 && status < 600 && failureStatus[status]);
            if (snapshot.single) {
                if (m.fails != 0) {
                    m.clearFails(); // nginx: a lone server is never marked unavailable
                }
            } else if (failure) {
                m.failed(ticker.nanos());
            } else {
                m.succeeded();
            }
            if (outcome == Outcome.RESPONSE && !failure) {
                if (needsResponseTime) {
                    m.recordResponseTime(latencyNanos);
                }
                if (peakDecay > 0) {
                    m.recordPeak(latencyNanos, ticker.nanos(), peakDecay);
                }
            }
        }
        OutcomeListener l = listener;
        if (l != null) {
            l.onOutcome(m.endpoint, m.attachment, outcome, outcome == Outcome.RESPONSE ? status : 0, latencyNanos,
                    failure);
        }
    }

    /** The current primary picker (tests and diagnostics). */
    Picker primaryPicker() {
        return snapshot.primary;
    }

    void irregular(int delta) {
        IRREGULAR.getAndAdd(this, delta);
    }

    /** Requests in flight over all endpoints; tracked only by bounded-load policies, else -1. */
    int totalInFlight() {
        return trackTotal ? totalInFlight : -1;
    }

    // =====================================================================================
    // control plane
    // =====================================================================================

    /** Adds a healthy endpoint; it starts in slow start when configured. Same as {@code add(endpoint, true)}. */
    public void add(Endpoint endpoint) {
        add(endpoint, true);
    }

    /**
     * Adds an endpoint, healthy or not, in one step: no pick can see it in any other health than
     * {@code healthy}. An endpoint added unhealthy takes no traffic (except in panic, like any
     * unhealthy endpoint) until {@link #setHealthy setHealthy(id, true)}, which starts its slow
     * start when configured; one added healthy starts slow start at once.
     *
     * @throws IllegalArgumentException when an endpoint with the same id exists
     */
    public void add(Endpoint endpoint, boolean healthy) {
        Objects.requireNonNull(endpoint, "endpoint");
        synchronized (lock) {
            if (members.containsKey(endpoint.id())) {
                throw new IllegalArgumentException(
                        "upstream '" + name + "': duplicate endpoint id '" + endpoint.id() + "'");
            }
            Member m = new Member(this, endpoint, !policy.readsInFlight(), healthy);
            if (slowStart != null && healthy) {
                m.slowStartSince = ticker.nanos();
            }
            members.put(endpoint.id(), m);
            publish();
        }
    }

    /** Removes an endpoint; returns false when there was none with that id. */
    public boolean remove(String id) {
        synchronized (lock) {
            Member m = members.remove(id);
            if (m == null) {
                return false;
            }
            m.setCounts(false);
            publish();
            return true;
        }
    }

    /**
     * Replaces an endpoint's configuration (weight, caps, backup flag…) keeping its live state;
     * the id must exist.
     */
    public void update(Endpoint endpoint) {
        synchronized (lock) {
            Member m = member(endpoint.id());
            m.reweight(endpoint);
            publish();
        }
    }

    /** Changes an endpoint's weight. */
    public void setWeight(String id, int weight) {
        synchronized (lock) {
            Member m = member(id);
            m.reweight(m.endpoint.withWeight(weight));
            publish();
        }
    }

    /** Sets an endpoint's administrative state (up, draining, down). */
    public void setState(String id, EndpointState state) {
        Objects.requireNonNull(state, "state");
        synchronized (lock) {
            Member m = member(id);
            if (m.state != state) {
                m.state = state;
                publish();
            }
        }
    }

    /**
     * Sets whether health checking considers the endpoint healthy (lb-health calls this). An
     * endpoint that becomes healthy again re-enters with slow start when configured.
     */
    public void setHealthy(String id, boolean healthy) {
        synchronized (lock) {
            Member m = member(id);
            if (m.healthy != healthy) {
                m.healthy = healthy;
                if (healthy && slowStart != null) {
                    m.slowStartSince = ticker.nanos();
                }
                publish();
            }
        }
    }

    /** Scales an endpoint's weight to {@code percent} of its configured weight (HAProxy agent). */
    public void setWeightPercent(String id, int percent) {
        if (percent < 0 || percent > 1000) {
            throw new IllegalArgumentException("weightPercent must be 0..1000, got " + percent);
        }
        synchronized (lock) {
            Member m = member(id);
            if (m.weightPercent != percent) {
                m.weightPercent = percent;
                publish();
            }
        }
    }

    /**
     * Changes the Envoy panic threshold at runtime (0 = off): when fewer than {@code percent} of the
     * endpoints are healthy, balance over all of them. Publishes a new snapshot when it changes.
     *
     * @throws IllegalArgumentException when {@code percent} is outside 0..100
     */
    public void setPanicThresholdPercent(int percent) {
        if (percent < 0 || percent > 100) {
            throw new IllegalArgumentException("panicThresholdPercent must be 0..100, got " + percent);
        }
        synchronized (lock) {
            if (panicThresholdPercent != percent) {
                panicThresholdPercent = percent;
                publish();
            }
        }
    }

    /** The current panic threshold in percent (0 = off). */
    public int panicThresholdPercent() {
        return panicThresholdPercent;
    }

    /** Whether the current snapshot balances over all endpoints because too few are healthy. */
    public boolean inPanic() {
        return snapshot.panic;
    }

    /** Registers the listener that sees every completed attempt (replacing any earlier one). */
    public void setOutcomeListener(OutcomeListener listener) {
        this.listener = listener;
    }

    /**
     * Stores a per-endpoint object for the {@link OutcomeListener}: every later completion of an
     * attempt on this endpoint passes it to
     * {@link OutcomeListener#onOutcome(Endpoint, Object, Outcome, int, long, boolean)}, so the
     * listener finds its per-endpoint state without a lookup. It belongs to the endpoint as it is
     * now: removing the endpoint drops it, and an endpoint added again under the same id starts
     * with none. {@code null} clears it. The listener that installs attachments owns them.
     *
     * @throws IllegalArgumentException when there is no endpoint with this id
     */
    public void setAttachment(String id, Object attachment) {
        synchronized (lock) {
            member(id).attachment = attachment;
        }
    }

    /** The endpoint's attachment ({@link #setAttachment}); empty when none is set or there is no such endpoint. */
    public Optional<Object> attachment(String id) {
        Member m = snapshot.byId.get(id);
        return m == null ? Optional.empty() : Optional.ofNullable(m.attachment);
    }

    // ---- views ----

    /** The endpoints, in configuration order. */
    public List<Endpoint> endpoints() {
        Snapshot s = snapshot;
        List<Endpoint> out = new ArrayList<>(s.all.length);
        for (Member m : s.all) {
            out.add(m.endpoint);
        }
        return out;
    }

    /** The endpoint with this id, if present. */
    public Optional<Endpoint> endpoint(String id) {
        Member m = snapshot.byId.get(id);
        return m == null ? Optional.empty() : Optional.of(m.endpoint);
    }

    /** Live view of one endpoint for status pages and tests. */
    public Optional<EndpointStatus> status(String id) {
        Member m = snapshot.byId.get(id);
        if (m == null) {
            return Optional.empty();
        }
        return Optional.of(new EndpointStatus(m.endpoint, m.state, m.healthy, m.inFlight(), m.fails,
                m.effectiveWeight, !m.banned(ticker.nanos())));
    }

    /** Live view of every endpoint, in configuration order. */
    public List<EndpointStatus> statuses() {
        List<EndpointStatus> out = new ArrayList<>();
        for (Member m : snapshot.all) {
            status(m.id).ifPresent(out::add);
        }
        return out;
    }

    /**
     * nginx's default number of tries for one request: the endpoints not marked down, primaries
     * plus backups (what {@code proxy_next_upstream_tries 0} means).
     */
    public int defaultTries() {
        return snapshot.tries;
    }

    private Member member(String id) {
        Member m = members.get(id);
        if (m == null) {
            throw new IllegalArgumentException("upstream '" + name + "': no endpoint with id '" + id + "'");
        }
        return m;
    }

    /** Builds and publishes a snapshot from {@link #members}. Called with {@link #lock} held. */
    private void publish() {
        Collection<Member> ms = members.values();
        List<Member> primaries = new ArrayList<>();
        List<Member> backups = new ArrayList<>();
        int healthy = 0;
        int tries = 0;
        long now = ticker.nanos();
        long ssUntil = Long.MIN_VALUE;
        for (Member m : ms) {
            (m.endpoint.backup() ? backups : primaries).add(m);
            if (m.healthy) {
                healthy++;
            }
            if (m.state != EndpointState.DOWN) {
                tries++;
            }
            if (slowStart != null && m.slowStartSince != Long.MIN_VALUE) {
                long until = m.slowStartSince + slowStart.window().toNanos();
                if (until - now > 0) {
                    ssUntil = ssUntil == Long.MIN_VALUE ? until : Math.max(ssUntil, until);
                } else {
                    m.slowStartSince = Long.MIN_VALUE;
                }
            }
            m.setCounts(m.state == EndpointState.UP && m.healthy && m.weightPercent > 0);
        }
        boolean panic = !ms.isEmpty() && panicThresholdPercent > 0
                && healthy * 100L < (long) panicThresholdPercent * ms.size();
        Snapshot s = new Snapshot(this, primaries.toArray(new Member[0]), backups.toArray(new Member[0]),
                panic, tries);
        slowStartUntil = ssUntil;
        snapshot = s;
    }

    /** Builds the picker of one group. */
    Picker picker(Member[] group, boolean panic) {
        if (group.length == 0) {
            return null;
        }
        boolean[] usable = new boolean[group.length];
        for (int i = 0; i < group.length; i++) {
            Member m = group[i];
            usable[i] = m.state == EndpointState.UP && (m.healthy || panic) && m.weightPercent > 0;
        }
        return policy.newPicker(new Candidates(this, group, usable, slowStart));
    }

    /** An immutable view of the membership and the pickers built from it. */
    static final class Snapshot {
        final Member[] all;
        final Map<String, Member> byId;
        final Picker primary;
        final Picker backup;
        final boolean empty;
        final boolean single;
        final boolean panic;
        final int tries;

        Snapshot(Upstream u, Member[] primaries, Member[] backups, boolean panic, int tries) {
            all = new Member[primaries.length + backups.length];
            System.arraycopy(primaries, 0, all, 0, primaries.length);
            System.arraycopy(backups, 0, all, primaries.length, backups.length);
            byId = new HashMap<>(all.length * 2);
            for (Member m : all) {
                byId.put(m.id, m);
            }
            this.panic = panic;
            this.primary = u.picker(primaries, panic);
            this.backup = u.picker(backups, panic);
            this.empty = all.length == 0;
            this.single = primaries.length == 1 && backups.length == 0;
            this.tries = tries;
        }

        /** The preferred member if it may serve this request (up or draining, healthy, eligible). */
        Member preferred(String id, PickRequest req) {
            Member m = byId.get(id);
            if (m == null || m.state == EndpointState.DOWN || !(m.healthy || panic) || m.weightPercent == 0) {
                return null;
            }
            return Candidates.eligible(m, req) ? m : null;
        }
    }

    /** Builder for {@link Upstream}. */
    public static final class Builder {
        private final String name;
        private BalancingPolicy policy = BalancingPolicy.roundRobin();
        private final List<Endpoint> endpoints = new ArrayList<>();
        private Ticker ticker = Ticker.system();
        private Set<Integer> failureStatuses = Set.of();
        private SlowStart slowStart;
        private int panicThresholdPercent;
        private boolean allowEmpty;

        private Builder(String name) {
            this.name = name;
        }

        /** The balancing policy (default round-robin). */
        public Builder policy(BalancingPolicy policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        public Builder endpoint(Endpoint endpoint) {
            endpoints.add(Objects.requireNonNull(endpoint, "endpoint"));
            return this;
        }

        public Builder endpoints(Collection<Endpoint> all) {
            all.forEach(this::endpoint);
            return this;
        }

        /** The time source (default {@link Ticker#system()}); tests inject a manual one. */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * HTTP statuses that count as failures for {@code max_fails} and for round robin's
         * effective weight, like the {@code http_500}… conditions of nginx
         * {@code proxy_next_upstream}. Default: none (only transport failures count). 403 and 404
         * never count in nginx and are rejected here.
         */
        public Builder failureStatuses(Set<Integer> statuses) {
            this.failureStatuses = Set.copyOf(statuses);
            return this;
        }

        /** Slow start for new and recovered endpoints (default off). */
        public Builder slowStart(SlowStart slowStart) {
            this.slowStart = slowStart;
            return this;
        }

        /**
         * Envoy panic threshold in percent (0 = off, the default in lb-core; lb-health uses 50):
         * when fewer endpoints than this share are healthy, balance over all of them.
         */
        public Builder panicThresholdPercent(int percent) {
            this.panicThresholdPercent = percent;
            return this;
        }

        /** Allow building with no endpoints (they are added later); otherwise an empty pool is an error. */
        public Builder allowEmpty(boolean allowEmpty) {
            this.allowEmpty = allowEmpty;
            return this;
        }

        public Upstream build() {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("upstream name must not be blank, got '" + name + "'");
            }
            if (endpoints.isEmpty() && !allowEmpty) {
                throw new IllegalArgumentException("upstream '" + name + "': endpoints must not be empty");
            }
            Set<String> ids = new HashSet<>();
            for (Endpoint e : endpoints) {
                if (!ids.add(e.id())) {
                    throw new IllegalArgumentException(
                            "upstream '" + name + "': duplicate endpoint id '" + e.id() + "'");
                }
            }
            for (int s : failureStatuses) {
                if (s < 100 || s > 599) {
                    throw new IllegalArgumentException("failureStatuses: status must be 100..599, got " + s);
                }
                if (s == 403 || s == 404) {
                    throw new IllegalArgumentException(
                            "failureStatuses: " + s + " never counts as a failure (as in nginx), got " + s);
                }
            }
            if (panicThresholdPercent < 0 || panicThresholdPercent > 100) {
                throw new IllegalArgumentException(
                        "panicThresholdPercent must be 0..100, got " + panicThresholdPercent);
            }
            return new Upstream(this);
        }
    }

    /** Live status of one endpoint. */
    public record EndpointStatus(Endpoint endpoint, EndpointState state, boolean healthy, int inFlight,
                                 int fails, int effectiveWeight, boolean available) {
    }

    @Override
    public String toString() {
        return "Upstream[" + name + ", " + policy + ", " + snapshot.all.length + " endpoints]";
    }

}
