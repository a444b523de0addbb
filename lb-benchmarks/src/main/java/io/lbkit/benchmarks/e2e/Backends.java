package io.lbkit.benchmarks.e2e;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The backends every target of the end-to-end harness proxies to: {@code n} Jetty 12 servers on
 * 127.0.0.1, each answering every GET with a fixed body (default 128 bytes) and
 * {@code X-Backend: <index>}; {@code /sse} streams {@code count} events one per {@code ms}.
 * Run as its own process: {@code Backends <port> [<port> ...]}.
 */
public final class Backends {

    private Backends() {
    }

    public static void main(String[] args) throws Exception {
        int bodySize = Integer.getInteger("body.size", 128);
        List<Server> servers = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            servers.add(start(Integer.parseInt(args[i]), i, bodySize));
        }
        System.out.println("backends ready on " + String.join(",", args));
        for (Server s : servers) {
            s.join();
        }
    }

    static Server start(int port, int index, int bodySize) throws Exception {
        QueuedThreadPool pool = new QueuedThreadPool(200, 8);
        pool.setName("backend-" + index);
        Server server = new Server(pool);
        ServerConnector c = new ServerConnector(server, 1, 1);
        c.setHost("127.0.0.1");
        c.setPort(port);
        c.setAcceptQueueSize(1024);
        server.addConnector(c);
        byte[] body = new byte[bodySize];
        for (int i = 0; i < bodySize; i++) {
            body[i] = (byte) ('a' + i % 26);
        }
        if (bodySize > 0) {
            body[bodySize - 1] = '\n';
        }
        String name = Integer.toString(index);
        server.setHandler(new Handler.Abstract.NonBlocking() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                response.getHeaders().put("X-Backend", name);
                if (Request.getPathInContext(request).startsWith("/sse")) {
                    sse(request, response, callback);
                    return true;
                }
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
                response.write(true, ByteBuffer.wrap(body), callback);
                return true;
            }
        });
        server.start();
        return server;
    }

    /** {@code /sse?count=N&ms=M}: N events, one every M ms, on a timer (no thread per stream). */
    private static void sse(Request request, Response response, Callback callback) {
        var fields = Request.extractQueryParameters(request);
        int count = fields.get("count") == null ? 10 : Integer.parseInt(fields.get("count").getValue());
        long ms = fields.get("ms") == null ? 1000 : Long.parseLong(fields.get("ms").getValue());
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        var scheduler = request.getComponents().getScheduler();
        new Object() {
            int sent;

            void next() {
                sent++;
                boolean last = sent >= count;
                ByteBuffer event = StandardCharsets.UTF_8.encode("id: " + sent + "\ndata: event " + sent + "\n\n");
                response.write(last, event, Callback.from(() -> {
                    if (last) {
                        callback.succeeded();
                    } else {
                        scheduler.schedule(this::next, ms, java.util.concurrent.TimeUnit.MILLISECONDS);
                    }
                }, callback::failed));
            }
        }.next();
    }
}
