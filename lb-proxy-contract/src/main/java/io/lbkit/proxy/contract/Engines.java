package io.lbkit.proxy.contract;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The engines on the classpath, for {@code @MethodSource("io.lbkit.proxy.contract.Engines#all")}.
 * The system property {@code lbkit.engines} (comma-separated names) narrows the list.
 */
public final class Engines {

    private Engines() {
    }

    /** Every engine found, in a stable order; fails when there is none (a suite must run somewhere). */
    public static List<ProxyEngine> all() {
        String only = System.getProperty("lbkit.engines", "").trim();
        Set<String> names = only.isEmpty() ? Set.of()
                : Arrays.stream(only.split(",")).map(String::trim).collect(Collectors.toSet());
        List<ProxyEngine> out = new ArrayList<>();
        for (ProxyEngine e : ServiceLoader.load(ProxyEngine.class)) {
            if (names.isEmpty() || names.contains(e.name())) {
                out.add(e);
            }
        }
        out.sort((a, b) -> a.name().compareTo(b.name()));
        if (out.isEmpty()) {
            throw new IllegalStateException("no proxy engine on the classpath (META-INF/services/"
                    + ProxyEngine.class.getName() + ")" + (only.isEmpty() ? "" : " named in lbkit.engines=" + only));
        }
        return out;
    }
}
