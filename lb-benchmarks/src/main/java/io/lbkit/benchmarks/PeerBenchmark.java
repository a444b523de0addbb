package io.lbkit.benchmarks;

import com.google.common.hash.Hashing;

import io.lbkit.core.Endpoint;

import org.apache.dubbo.common.URL;
import org.apache.dubbo.rpc.Invocation;
import org.apache.dubbo.rpc.Invoker;
import org.apache.dubbo.rpc.Result;
import org.apache.dubbo.rpc.RpcInvocation;
import org.apache.dubbo.rpc.RpcStatus;
import org.apache.dubbo.rpc.cluster.LoadBalance;
import org.apache.dubbo.rpc.cluster.loadbalance.ConsistentHashLoadBalance;
import org.apache.dubbo.rpc.cluster.loadbalance.LeastActiveLoadBalance;
import org.apache.dubbo.rpc.cluster.loadbalance.RandomLoadBalance;
import org.apache.dubbo.rpc.cluster.loadbalance.RoundRobinLoadBalance;
import org.apache.dubbo.rpc.cluster.loadbalance.ShortestResponseLoadBalance;
import org.apache.dubbo.rpc.model.ApplicationModel;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Peers of {@link PickBenchmark}, on the same endpoints (same hosts, same mixed weights) and the
 * same keys:
 *
 * <ul>
 *   <li>Apache Dubbo's load balancers through {@code LoadBalance.select(invokers, url,
 *       invocation)}, over lightweight {@link Invoker} stubs whose URLs carry {@code weight}.
 *       Least-active and shortest-response read {@link RpcStatus}, which Dubbo's filters feed
 *       around each call; here each operation records it with {@code RpcStatus.beginCount} /
 *       {@code endCount}, the equivalent of lbkit's {@code complete}. Consistent hash hashes the
 *       first argument of the invocation, set per operation to the same text keys lbkit hashes.
 *   <li>Guava {@code Hashing.consistentHash(long, int)} (the bucket, then the endpoint).
 *   <li>Two floors, what no balancer can beat: a shared {@code AtomicInteger} index modulo n, and
 *       {@code ThreadLocalRandom.nextInt(n)}.
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@Threads(1)
public class PeerBenchmark {

    static final String SERVICE = "io.lbkit.benchmarks.EchoService";
    static final String METHOD = "echo";

    @Param({"3", "100", "1000"})
    public int endpoints;

    Endpoint[] array;
    List<Invoker<EchoService>> invokers;
    URL consumerUrl;
    LoadBalance dubboRoundRobin;
    LoadBalance dubboRandom;
    LoadBalance dubboLeastActive;
    LoadBalance dubboConsistentHash;
    LoadBalance dubboShortestResponse;
    final AtomicInteger index = new AtomicInteger();
    final AtomicInteger threadIds = new AtomicInteger();

    /** The service the stub invokers pretend to call. */
    public interface EchoService {
        String echo(String key);
    }

    /** An invoker that only carries a URL: enough for every Dubbo load balancer. */
    static final class StubInvoker implements Invoker<EchoService> {
        private final URL url;
        final Endpoint endpoint;

        StubInvoker(URL url, Endpoint endpoint) {
            this.url = url;
            this.endpoint = endpoint;
        }

        @Override public Class<EchoService> getInterface() { return EchoService.class; }
        @Override public Result invoke(Invocation invocation) { throw new UnsupportedOperationException(); }
        @Override public URL getUrl() { return url; }
        @Override public boolean isAvailable() { return true; }
        @Override public void destroy() { }
        @Override public String toString() { return url.getAddress(); }
    }

    @Setup(Level.Trial)
    public void setUp() {
        List<Endpoint> eps = Fixtures.endpoints(endpoints, "mixed");
        array = eps.toArray(new Endpoint[0]);
        invokers = new ArrayList<>(endpoints);
        for (int i = 0; i < endpoints; i++) {
            Endpoint e = array[i];
            invokers.add(new StubInvoker(URL.valueOf(
                    "dubbo://" + e.host() + ":" + e.port() + "/" + SERVICE + "?weight=" + e.weight()), e));
        }
        consumerUrl = URL.valueOf("consumer://127.0.0.1/" + SERVICE);
        dubboRoundRobin = new RoundRobinLoadBalance();
        dubboRandom = new RandomLoadBalance();
        dubboLeastActive = new LeastActiveLoadBalance();
        dubboConsistentHash = new ConsistentHashLoadBalance();
        ShortestResponseLoadBalance sr = new ShortestResponseLoadBalance();
        sr.setApplicationModel(ApplicationModel.defaultModel()); // its slide-window reset executor
        dubboShortestResponse = sr;
    }

    @State(Scope.Thread)
    public static class Caller {
        RpcInvocation invocation;
        Object[][] arguments;
        long[] longKeys;
        int next;

        @Setup(Level.Trial)
        public void setUp(PeerBenchmark bench) {
            int id = bench.threadIds.getAndIncrement();
            String[] keys = Fixtures.textKeys(0x5EED + id); // the keys PickBenchmark hashes
            arguments = new Object[keys.length][];
            for (int i = 0; i < keys.length; i++) {
                arguments[i] = new Object[] {keys[i]};
            }
            invocation = new RpcInvocation(null, METHOD, SERVICE, SERVICE,
                    new Class<?>[] {String.class}, arguments[0]);
            longKeys = Fixtures.longKeys(0x10AD + id);
        }
    }

    private Endpoint select(LoadBalance lb, Caller c) {
        Invoker<EchoService> inv = lb.select(invokers, consumerUrl, c.invocation);
        return ((StubInvoker) inv).endpoint;
    }

    /** Select, then what Dubbo's filters record around the call (begin, end after 1 ms, success). */
    private Endpoint selectAndCount(LoadBalance lb, Caller c) {
        Invoker<EchoService> inv = lb.select(invokers, consumerUrl, c.invocation);
        URL u = inv.getUrl();
        RpcStatus.beginCount(u, METHOD);
        RpcStatus.endCount(u, METHOD, 1L, true);
        return ((StubInvoker) inv).endpoint;
    }

    @Benchmark
    public Endpoint dubboRoundRobin(Caller c) {
        return select(dubboRoundRobin, c);
    }

    @Benchmark
    public Endpoint dubboRandom(Caller c) {
        return select(dubboRandom, c);
    }

    @Benchmark
    public Endpoint dubboLeastActive(Caller c) {
        return selectAndCount(dubboLeastActive, c);
    }

    @Benchmark
    public Endpoint dubboShortestResponse(Caller c) {
        return selectAndCount(dubboShortestResponse, c);
    }

    @Benchmark
    public Endpoint dubboConsistentHash(Caller c) {
        c.invocation.setArguments(c.arguments[c.next++ & Fixtures.MASK]);
        return select(dubboConsistentHash, c);
    }

    @Benchmark
    public Endpoint guavaConsistentHash(Caller c) {
        return array[Hashing.consistentHash(c.longKeys[c.next++ & Fixtures.MASK], array.length)];
    }

    @Benchmark
    public Endpoint floorAtomicIndex() {
        return array[Math.floorMod(index.getAndIncrement(), array.length)];
    }

    @Benchmark
    public Endpoint floorThreadLocalRandom() {
        return array[ThreadLocalRandom.current().nextInt(array.length)];
    }
}
