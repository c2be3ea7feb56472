// SharedWorker entry: every tab of this origin connects here and shares one StreamHub.
"use strict";
importScripts("stream-hub.js");
const hub = new StreamHub(self.location.origin);
self.onconnect = e => hub.attach(e.ports[0]);
