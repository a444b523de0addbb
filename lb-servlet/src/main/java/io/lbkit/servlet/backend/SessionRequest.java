package io.lbkit.servlet.backend;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpSession;

/** The request as the application sees it behind {@link SessionFilter}. */
final class SessionRequest extends HttpServletRequestWrapper {

    private final RequestSessions sessions;
    private final SessionResponse response;

    SessionRequest(HttpServletRequest request, RequestSessions sessions, SessionResponse response) {
        super(request);
        this.sessions = sessions;
        this.response = response;
    }

    @Override
    public HttpSession getSession(boolean create) {
        return sessions.getSession(create);
    }

    @Override
    public HttpSession getSession() {
        return sessions.getSession(true);
    }

    @Override
    public String changeSessionId() {
        return sessions.changeSessionId();
    }

    @Override
    public String getRequestedSessionId() {
        return sessions.requestedSessionId();
    }

    @Override
    public boolean isRequestedSessionIdValid() {
        return sessions.requestedSessionIdValid();
    }

    @Override
    public boolean isRequestedSessionIdFromCookie() {
        return sessions.requestedSessionIdFromCookie();
    }

    @Override
    public boolean isRequestedSessionIdFromURL() {
        return false;
    }

    @Override
    public AsyncContext startAsync() {
        return startAsync(this, response);
    }

    @Override
    public AsyncContext startAsync(ServletRequest req, ServletResponse resp) {
        AsyncContext ac = super.startAsync(req, resp);
        sessions.asyncStarted(ac);
        return new SavingAsyncContext(ac, sessions);
    }

    @Override
    public AsyncContext getAsyncContext() {
        AsyncContext ac = super.getAsyncContext();
        return ac instanceof SavingAsyncContext ? ac : new SavingAsyncContext(ac, sessions);
    }

    /** Saves the session before {@link #complete()} lets the container commit the response. */
    static final class SavingAsyncContext implements AsyncContext {
        private final AsyncContext delegate;
        private final RequestSessions sessions;

        SavingAsyncContext(AsyncContext delegate, RequestSessions sessions) {
            this.delegate = delegate;
            this.sessions = sessions;
        }

        @Override
        public void complete() {
            try {
                sessions.finish();
            } catch (RuntimeException e) {
                HttpServletResponseAccess.answer(e, delegate.getResponse());
            }
            delegate.complete();
        }

        @Override
        public ServletRequest getRequest() {
            return delegate.getRequest();
        }

        @Override
        public ServletResponse getResponse() {
            return delegate.getResponse();
        }

        @Override
        public boolean hasOriginalRequestAndResponse() {
            return delegate.hasOriginalRequestAndResponse();
        }

        @Override
        public void dispatch() {
            delegate.dispatch();
        }

        @Override
        public void dispatch(String path) {
            delegate.dispatch(path);
        }

        @Override
        public void dispatch(ServletContext context, String path) {
            delegate.dispatch(context, path);
        }

        @Override
        public void start(Runnable run) {
            delegate.start(run);
        }

        @Override
        public void addListener(AsyncListener listener) {
            delegate.addListener(listener);
        }

        @Override
        public void addListener(AsyncListener listener, ServletRequest req, ServletResponse resp) {
            delegate.addListener(listener, req, resp);
        }

        @Override
        public <T extends AsyncListener> T createListener(Class<T> clazz) throws ServletException {
            return delegate.createListener(clazz);
        }

        @Override
        public void setTimeout(long timeout) {
            delegate.setTimeout(timeout);
        }

        @Override
        public long getTimeout() {
            return delegate.getTimeout();
        }
    }
}
