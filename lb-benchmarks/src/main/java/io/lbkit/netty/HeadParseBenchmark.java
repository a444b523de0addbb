package io.lbkit.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One request head of a browser's size (10 fields, 420 bytes), parsed by lb-netty's in-place
 * {@link HeadParser} against Netty's {@code HttpRequestDecoder}, which the event-loop engine uses
 * today (request line and fields decoded into a {@code DefaultHttpRequest} with its headers), in
 * the same run. In this package to reach the package-private parser.
 *
 * <p>Run: {@code java -jar lb-benchmarks/target/benchmarks.jar HeadParseBenchmark -prof gc}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@State(Scope.Thread)
public class HeadParseBenchmark {

    static final String HEAD = "GET /products/42?color=blue&size=m HTTP/1.1\r\n"
            + "Host: shop.example.com\r\n"
            + "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0\r\n"
            + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
            + "Accept-Language: en-US,en;q=0.5\r\n"
            + "Accept-Encoding: gzip, deflate, br\r\n"
            + "Referer: https://shop.example.com/products\r\n"
            + "Cookie: LBSESSION=hQ3kVx9bLq2n; theme=dark\r\n"
            + "Connection: keep-alive\r\n"
            + "Upgrade-Insecure-Requests: 1\r\n"
            + "Priority: u=0, i\r\n\r\n";

    private ByteBuf buf;
    private HeadParser parser;
    private Decoder decoder;
    private final List<Object> out = new ArrayList<>(4);

    /** Netty's decoder with its decode step reachable (a head without a body needs no context). */
    static final class Decoder extends HttpRequestDecoder {
        void run(ByteBuf in, List<Object> out) throws Exception {
            decode(null, in, out);
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        buf = Unpooled.directBuffer(1024).writeBytes(HEAD.getBytes(StandardCharsets.ISO_8859_1));
        parser = new HeadParser(8192, 32 * 1024, 100);
        decoder = new Decoder();
    }

    @Benchmark
    public int inPlace() {
        parser.reset();
        return parser.parse(buf) + parser.fieldCount();
    }

    @Benchmark
    public Object nettyDecoder() throws Exception {
        buf.readerIndex(0);
        out.clear();
        decoder.run(buf, out); // the head, then the empty last content of a request without a body
        decoder.run(buf, out);
        Object head = out.get(0);
        for (Object o : out) {
            ReferenceCountUtil.release(o);
        }
        return ((HttpRequest) head).headers().size();
    }
}
