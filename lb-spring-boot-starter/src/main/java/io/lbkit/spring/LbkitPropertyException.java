package io.lbkit.spring;

/**
 * An {@code lbkit.*} property of the proxy side that cannot be used: the message is
 * {@code <property>: <problem>}, e.g. {@code lbkit.upstreams.api.endpoints[0]: endpoint ...: port
 * must be 0..65535, got 99999}. Start-up fails with it, and Spring Boot's failure report shows the
 * property and the problem ({@link LbkitPropertyFailureAnalyzer}).
 */
public final class LbkitPropertyException extends IllegalStateException {
    private static final long serialVersionUID = 1L;
    private final String property;
    private final String problem;

    /**
     * @param property the property's name, as the app wrote it ({@code lbkit.routes[0].upstream})
     * @param problem  what is wrong with it
     * @param cause    the reader's exception, or {@code null}
     */
    public LbkitPropertyException(String property, String problem, Throwable cause) {
        super(property + ": " + problem, cause);
        this.property = property;
        this.problem = problem;
    }

    /** The property's name. */
    public String property() {
        return property;
    }

    /** What is wrong with it. */
    public String problem() {
        return problem;
    }
}
