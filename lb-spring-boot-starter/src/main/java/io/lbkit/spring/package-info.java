/**
 * Spring Boot auto-configuration of lbkit's backend side: a {@link io.lbkit.session.SessionStore}
 * behind {@code request.getSession()}, the session API and the instance-id header, configured by
 * {@code lbkit.*} properties ({@link io.lbkit.spring.LbkitProperties}). The properties, the
 * filter order and how to replace a bean are in {@code docs/spring-boot.md}.
 */
package io.lbkit.spring;
