package io.lbkit.server;

import io.lbkit.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGHUP reloads the configuration file ({@code nginx -s reload}). It uses the JDK's
 * {@code sun.misc.Signal} (module jdk.unsupported), which exists on HotSpot and OpenJ9 but not
 * everywhere: on Windows there is no SIGHUP, and a JVM run with {@code -Xrs} or whose HUP the
 * JVM already uses refuses the handler. There the installer logs why, and {@code POST /reload}
 * on the admin API is the way to reload.
 */
final class ReloadSignal {

    private static final Logger LOG = LoggerFactory.getLogger(ReloadSignal.class);

    private ReloadSignal() {
    }

    /** Installs the SIGHUP handler; returns false (after logging why) where it cannot. */
    static boolean install(ProxyServer server) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), sig -> {
                // off the signal thread: a reload validates and applies a whole file
                Thread t = new Thread(() -> reload(server), "lbkit-reload");
                t.setDaemon(true);
                t.start();
            });
            return true;
        } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
            LOG.warn("SIGHUP cannot reload here ({}); use POST /reload on the admin API", e.toString());
            return false;
        }
    }

    static void reload(ProxyServer server) {
        try {
            server.reloadFromFile();
            LOG.info("SIGHUP: reloaded {}", server.config().source());
        } catch (ConfigException e) {
            LOG.error("SIGHUP: reload refused, the running configuration stays: {}",
                    e.getMessage().replaceAll("[\\r\\n]+", " "));
        } catch (RuntimeException e) {
            LOG.error("SIGHUP: reload failed, the running configuration stays", e);
        }
    }
}
