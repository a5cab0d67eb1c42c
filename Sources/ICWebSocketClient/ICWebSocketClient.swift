// The Swift client SDK (issue 8). This file is replaced as the module grows.
import ICWebSocketProtocol
