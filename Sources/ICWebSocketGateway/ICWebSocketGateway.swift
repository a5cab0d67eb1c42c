// The trustless WebSocket gateway (issue 7). This file is replaced as the module grows.
import ICWebSocketProtocol
