package io.lbkit.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.servlet.backend.InstanceIdFilter;
import io.lbkit.servlet.backend.SessionFilter;
import io.lbkit.session.SessionCookies;
import io.lbkit.session.SessionSettings;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.validation.BeanPropertyBindingResult;
import org.springframework.validation.Errors;

class LbkitPropertiesTest {

    @Test
    void defaultsAreTheLbkitBuildersDefaults() {
        LbkitProperties p = new LbkitProperties();
        LbkitProperties.Session s = p.getSession();
        assertEquals(SessionSettings.defaults(), s.settings());
        assertEquals(SessionSettings.DEFAULT_IDLE_TIMEOUT, s.getIdleTimeout());
        assertEquals(SessionSettings.DEFAULT_MAX_SESSION_BYTES, s.getMaxSessionBytes().toBytes());
        assertEquals(Integer.MIN_VALUE + 50, s.getFilterOrder());
        assertEquals(LbkitProperties.Session.DEFAULT_FILTER_ORDER, s.getFilterOrder());
        assertEquals(SessionFilter.DEFAULT_ID_HEADER, s.getSessionIdHeader());
        assertEquals(SessionCookies.DEFAULT_NAME, s.getCookie().getName());
        assertEquals(InstanceIdFilter.DEFAULT_HEADER, p.getInstanceId().getHeader());
        assertEquals("memory", s.getStore());
        assertFalse(s.isRedis());
        assertFalse(s.getApi().isEnabled());
        assertFalse(p.getInstanceId().isEnabled());
        assertTrue(s.isEnabled());
        assertFalse(validate(p).hasErrors(), validate(p).toString());
    }

    @Test
    void eachBadValueIsOneErrorNamingItsProperty() {
        LbkitProperties p = new LbkitProperties();
        p.getSession().setAbsoluteTimeout(Duration.ofSeconds(-1));
        p.getSession().setMaxAttributes(0);
        p.getSession().getCookie().setDomain("a;b");
        p.getSession().getCookie().setMaxAge(Duration.ofSeconds(-5));
        p.getSession().setSessionIdHeader("X Session");
        p.getSession().setAllowClasses(List.of("com.example.Missing"));
        Errors errors = validate(p);
        List<String> messages = errors.getAllErrors().stream().map(e -> e.getDefaultMessage()).toList();
        assertEquals(List.of(
                "lbkit.session.absolute-timeout must be positive, got PT-1S",
                "lbkit.session.max-attributes must be at least 1, got 0",
                "lbkit.session.session-id-header must be a header name, got 'X Session'",
                "lbkit.session.allow-classes: class 'com.example.Missing' not found",
                "lbkit.session.cookie.domain must be a host name, got 'a;b'",
                "lbkit.session.cookie.max-age must be 0 or more seconds, got PT-5S"), messages);
    }

    @Test
    void redisSettingsAreCheckedOnlyForARedisStore() {
        LbkitProperties p = new LbkitProperties();
        p.getSession().getRedis().setKeyPrefix("{bad}");
        assertFalse(validate(p).hasErrors());
        p.getSession().setStore("rediss://:pw@redis.internal:6380/2");
        assertTrue(p.getSession().isRedis());
        assertEquals(List.of("lbkit.session.redis.key-prefix must be non-empty without braces, got '{bad}'"),
                validate(p).getAllErrors().stream().map(e -> e.getDefaultMessage()).toList());
    }

    @Test
    void anApiOpenToEveryAddressIsAllowedWhenSaidSo() {
        LbkitProperties p = new LbkitProperties();
        p.getSession().getApi().setEnabled(true);
        assertEquals(1, validate(p).getErrorCount());
        p.getSession().getApi().setAllow(List.of("0.0.0.0/0", "::/0"));
        assertFalse(validate(p).hasErrors(), validate(p).toString());
    }

    @Test
    void maskedHidesTheUserInformationOfAUri() {
        assertEquals("redis://****@host:6379/0", LbkitSessionAutoConfiguration.masked("redis://u:secret@host:6379/0"));
        assertEquals("redis://host:6379", LbkitSessionAutoConfiguration.masked(" redis://host:6379 "));
        assertEquals("memory", LbkitSessionAutoConfiguration.masked("memory"));
        assertNull(new LbkitProperties().getSession().getAbsoluteTimeout());
    }

    private static Errors validate(LbkitProperties p) {
        Errors errors = new BeanPropertyBindingResult(p, "lbkit");
        p.validate(p, errors);
        return errors;
    }
}
