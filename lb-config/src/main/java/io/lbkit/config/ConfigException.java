package io.lbkit.config;

/**
 * A configuration file that cannot be used. The message names the file, the path inside it
 * (e.g. {@code upstreams.backends.endpoints[1].weight}) and the problem; {@code serve} prints it
 * and exits with status 2.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String file;
    private final String path;
    private final String problem;

    public ConfigException(String file, String path, String problem) {
        super(file + ": " + (path.isEmpty() ? "" : path + ": ") + problem);
        this.file = file;
        this.path = path;
        this.problem = problem;
    }

    public String file() {
        return file;
    }

    /** Dotted path of the offending value, empty for the document itself. */
    public String path() {
        return path;
    }

    public String problem() {
        return problem;
    }
}
