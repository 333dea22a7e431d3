// ctest mcp_sdk_ws: the tools through the official SDK client over
// WebSocket (ws://127.0.0.1:PORT/mcp, subprotocol `mcp`).
import { defineToolTests } from './tool_cases.mjs';

defineToolTests('ws');
