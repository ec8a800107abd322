"""The demo city: simulated Yiyang devices in real payload formats, the publisher that sends
them to a broker, the load generator and the embedded broker used when no broker is
configured. Only the ui, the session and headless commands import this package."""
