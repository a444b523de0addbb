package io.lbkit.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lbkit.core.Endpoint;
import io.lbkit.core.EndpointState;
import io.lbkit.core.Upstream;
import io.lbkit.health.ActiveChecker;
import io.lbkit.health.HealthMonitor;
import io.lbkit.config.ConfigException;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code admin.stateFile} (nginx Plus {@code state}): every upstream's servers as they are after a
 * runtime change, written whole after each change (to a temporary file moved into place, so a
 * crash leaves the old or the new file, never half of one), and read at start, where it replaces
 * the configured servers of the upstreams it names.
 *
 * <pre>{"upstreams": {"api": {"servers": [{"id": "a", "server": "10.0.0.1:8080", "weight": 1, ...}]}}}</pre>
 */
final class StateFile {

    private static final Logger LOG = LoggerFactory.getLogger(StateFile.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private StateFile() {
    }

    /** Writes every upstream's servers and states. */
    static void write(Path file, ProxyServer server) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode ups = root.putObject("upstreams");
        for (Map.Entry<String, Upstream> u : server.upstreams().entrySet()) {
            HealthMonitor m = server.monitor(u.getKey());
            ArrayNode list = ups.putObject(u.getKey()).putArray("servers");
            for (Endpoint e : u.getValue().endpoints()) {
                list.add(ServerFields.json(e, AdminState.of(m, e.id())));
            }
        }
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Restores the servers of each upstream the file names (a missing file restores nothing).
     *
     * @throws ConfigException when the file cannot be read or a server in it is invalid
     */
    static void restore(Path file, ProxyServer server) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            LOG.info("admin state file {} does not exist yet: the configured servers apply", file);
            return;
        } catch (IOException e) {
            throw new ConfigException(file.toString(), "", "cannot read the admin state file: "
                    + e.getMessage().replaceAll("[\\r\\n]+", " "));
        }
        JsonNode ups = root == null ? null : root.get("upstreams");
        if (ups == null || !ups.isObject()) {
            throw new ConfigException(file.toString(), "upstreams", "is required (an object of upstreams)");
        }
        for (Map.Entry<String, JsonNode> u : (Iterable<Map.Entry<String, JsonNode>>) ups::fields) {
            HealthMonitor m = server.monitor(u.getKey());
            if (m == null) {
                LOG.warn("admin state file {}: upstream '{}' is not in the configuration; ignored", file, u.getKey());
                continue;
            }
            Map<String, Endpoint> servers = new LinkedHashMap<>();
            Map<String, EndpointState> states = new LinkedHashMap<>();
            JsonNode list = u.getValue().get("servers");
            if (list == null || !list.isArray()) {
                throw new ConfigException(file.toString(), "upstreams." + u.getKey() + ".servers", "must be a list");
            }
            for (int i = 0; i < list.size(); i++) {
                try {
                    Endpoint e = ServerFields.endpoint(list.get(i), null);
                    EndpointState st = ServerFields.state(list.get(i));
                    if (servers.put(e.id(), e) != null) {
                        throw new IllegalArgumentException("duplicate id '" + e.id() + "'");
                    }
                    states.put(e.id(), st == null ? EndpointState.UP : st);
                } catch (IllegalArgumentException ex) {
                    throw new ConfigException(file.toString(), "upstreams." + u.getKey() + ".servers[" + i + "]",
                            ex.getMessage());
                }
            }
            apply(m, servers, states);
            ActiveChecker c = server.checker(u.getKey());
            if (c != null) {
                c.sync();
            }
            LOG.info("admin state file {}: upstream '{}' restored with {} servers", file, u.getKey(), servers.size());
        }
    }

    private static void apply(HealthMonitor m, Map<String, Endpoint> servers, Map<String, EndpointState> states) {
        Upstream upstream = m.upstream();
        for (Endpoint e : upstream.endpoints()) {
            if (!servers.containsKey(e.id())) {
                m.remove(e.id());
            }
        }
        for (Endpoint e : servers.values()) {
            Endpoint now = upstream.endpoint(e.id()).orElse(null);
            if (now == null) {
                m.add(e);
            } else if (!now.equals(e)) {
                upstream.update(e);
            }
            if (AdminState.of(m, e.id()) != states.get(e.id())) {
                AdminState.apply(m, e.id(), states.get(e.id()));
            }
        }
    }
}
