package io.lbkit.spring;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Spring Boot's "APPLICATION FAILED TO START" report for an {@link LbkitPropertyException}. */
final class LbkitPropertyFailureAnalyzer extends AbstractFailureAnalyzer<LbkitPropertyException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, LbkitPropertyException cause) {
        return new FailureAnalysis("Invalid lbkit proxy setting " + cause.property() + ": " + cause.problem(),
                "Fix " + cause.property() + ". The lbkit.* keys of the proxy side are those of lbkit serve's file "
                        + "(docs/configuration.md), and docs/spring-boot.md#proxy-side says how they are written as "
                        + "Spring properties.", cause);
    }
}
