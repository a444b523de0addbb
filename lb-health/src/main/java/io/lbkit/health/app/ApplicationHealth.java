package io.lbkit.health.app;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import io.lbkit.core.Ticker;

/**
 * Liveness, readiness and detailed health of an application from named checks, as the usual
 * {@code /health/live} (a Kubernetes liveness probe), {@code /health/ready} (a Kubernetes readiness
 * probe or a load balancer's active check) and {@code /health/detailed} (dashboards) endpoints serve
 * them, grouped the way Spring Boot's health groups are.
 *
 * <pre>{@code
 * ApplicationHealth health = ApplicationHealth.builder()
 *         .check(NamedCheck.readiness("redis", HealthCheck.succeeds(redis::ping)))
 *         .check(NamedCheck.liveness("event-loop", () -> loop.stuck() ? Health.down("stuck") : Health.up()))
 *         .check(NamedCheck.readiness("search", searchCheck).withCritical(false))
 *         .build();
 * HealthReport ready = health.readiness();   // ready.httpStatus() is 200 or 503
 * }</pre>
 *
 * <p>The checks of a report run concurrently on the executor; each caller waits at most the check's
 * timeout (a hung check is DOWN "timed out after N ms" and is interrupted once). A check never runs
 * twice at once: callers arriving during a run share its result. With {@link Builder#cacheTtl} results
 * are reused for that long, so a storm of probes does not hammer dependencies.
 */
public final class ApplicationHealth implements AutoCloseable {

    private final List<CheckRunner> runners;
    private final ExecutorService executor;
    private final boolean ownsExecutor;
    private final Clock clock;

    private ApplicationHealth(Builder b) {
        this.ownsExecutor = b.executor == null;
        this.executor = b.executor != null ? b.executor : defaultExecutor();
        this.clock = b.clock;
        List<CheckRunner> list = new ArrayList<>();
        for (NamedCheck c : b.checks) {
            list.add(new CheckRunner(c, executor, b.ticker, b.cacheTtl));
        }
        this.runners = List.copyOf(list);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The registered checks, in order. */
    public List<NamedCheck> checks() {
        return runners.stream().map(CheckRunner::spec).toList();
    }

    /** {@code /health/live}: the liveness checks only; with none, UP (the process is running). */
    public HealthReport liveness() {
        return livenessAsync().join();
    }

    /** {@code /health/ready}: the readiness checks; not ready when a critical one is DOWN. */
    public HealthReport readiness() {
        return readinessAsync().join();
    }

    /** {@code /health/detailed}: every check, with the overall status; served with 200 always. */
    public HealthReport detailed() {
        return detailedAsync().join();
    }

    public CompletableFuture<HealthReport> livenessAsync() {
        return report(ReportKind.LIVENESS, r -> r.spec().kind().inLiveness());
    }

    public CompletableFuture<HealthReport> readinessAsync() {
        return report(ReportKind.READINESS, r -> r.spec().kind().inReadiness());
    }

    public CompletableFuture<HealthReport> detailedAsync() {
        return report(ReportKind.DETAILED, r -> true);
    }

    private CompletableFuture<HealthReport> report(ReportKind kind, Predicate<CheckRunner> included) {
        List<CompletableFuture<ComponentHealth>> parts = new ArrayList<>();
        for (CheckRunner r : runners) {
            if (included.test(r)) {
                parts.add(r.evaluate());
            }
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(v -> {
            List<ComponentHealth> components = parts.stream().map(CompletableFuture::join).toList();
            Status status = aggregate(components);
            return new HealthReport(kind, status, status != Status.DOWN, clock.instant(), components);
        });
    }

    /** DOWN if a critical component is DOWN; DEGRADED if any is DOWN or DEGRADED; else UP. */
    static Status aggregate(List<ComponentHealth> components) {
        Status s = Status.UP;
        for (ComponentHealth c : components) {
            Status effective = c.status() == Status.DOWN && !c.critical() ? Status.DEGRADED : c.status();
            s = s.worse(effective);
        }
        return s;
    }

    /** Stops the default executor (a supplied executor is left alone). */
    @Override
    public void close() {
        if (ownsExecutor) {
            executor.shutdownNow();
        }
    }

    private static ExecutorService defaultExecutor() {
        AtomicInteger n = new AtomicInteger();
        return Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "lbkit-app-health-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Builder for {@link ApplicationHealth}. */
    public static final class Builder {
        private final List<NamedCheck> checks = new ArrayList<>();
        private final Set<String> names = new HashSet<>();
        private ExecutorService executor;
        private Ticker ticker = Ticker.system();
        private Clock clock = Clock.systemUTC();
        private Duration cacheTtl = Duration.ZERO;

        private Builder() {
        }

        /** Registers a check; names must be unique. */
        public Builder check(NamedCheck check) {
            Objects.requireNonNull(check, "check");
            if (!names.add(check.name())) {
                throw new IllegalArgumentException("check name must be unique, got '" + check.name() + "' twice");
            }
            checks.add(check);
            return this;
        }

        /** Shortcut for a critical readiness check with the default timeout. */
        public Builder readiness(String name, HealthCheck check) {
            return check(NamedCheck.readiness(name, check));
        }

        /** Shortcut for a critical liveness check with the default timeout. */
        public Builder liveness(String name, HealthCheck check) {
            return check(NamedCheck.liveness(name, check));
        }

        /**
         * The executor that runs checks (default: an owned cached pool of daemon threads; since a check
         * never runs twice at once, it holds at most one thread per check).
         */
        public Builder executor(ExecutorService executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /** How long a check's result is reused (default 0: every report runs the checks). */
        public Builder cacheTtl(Duration ttl) {
            this.cacheTtl = Objects.requireNonNull(ttl, "cacheTtl");
            return this;
        }

        /** Time source for durations and the cache (default {@link Ticker#system()}). */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /** Clock for {@link HealthReport#checkedAt()} (default UTC system clock). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        public ApplicationHealth build() {
            if (cacheTtl.isNegative()) {
                throw new IllegalArgumentException("cacheTtl must be >= 0, got " + cacheTtl);
            }
            return new ApplicationHealth(this);
        }
    }
}
