package io.lbkit.server;

import io.lbkit.config.ConfigException;
import io.lbkit.config.ConfigLoader;
import io.lbkit.config.ServeConfig;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * {@code serve --config FILE}: runs the proxy tier a configuration file declares until the process
 * is asked to stop (SIGTERM / Ctrl-C), then stops gracefully; SIGHUP reloads the file.
 */
final class ServeCommand {

    static final String USAGE = "usage: java -jar lb-server.jar serve --config FILE";

    private ServeCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) throws UsageException {
        Args a = Args.parse(args, 1, USAGE, Set.of("--config"), Set.of(), Set.of());
        String file = a.get("--config");
        if (file == null) {
            throw new UsageException(USAGE, "missing --config FILE");
        }
        ServeConfig config;
        ProxyServer server;
        try {
            config = ConfigLoader.load(Path.of(file));
            server = ProxyServer.start(config);
        } catch (ConfigException e) {
            out.flush();
            err.println("error: " + e.getMessage().replaceAll("[\\r\\n]+", " "));
            err.flush();
            return 2;
        } catch (Exception e) {
            throw new IllegalStateException("cannot start: " + e.getMessage(), e);
        }
        ObserveSetup.reopenOnSignal(server);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop();
            stopped.countDown();
        }, "lbkit-shutdown"));
        ReloadSignal.install(server);
        for (URI uri : server.uris()) {
            out.println("lbkit proxy listening on " + uri);
        }
        if (server.adminUri() != null) {
            out.println("  admin API at " + server.adminUri());
        }
        for (ServeConfig.RouteSpec r : config.routes()) {
            out.println("  route " + r.name() + ": " + r.match().pathPrefix() + " -> upstream " + r.upstream()
                    + " " + config.upstreams().get(r.upstream()).endpoints().stream().map(e -> e.id()).toList());
        }
        if (config.sessions() != null && config.sessions().api()) {
            out.println("  session API at " + config.sessions().apiPath());
        }
        out.flush();
        try {
            server.join();
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }
}
