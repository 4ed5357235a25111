#!/usr/bin/env node
// Stands in for $BROWSER in the CLI tests: "opens" the URL by following its
// redirects, as a browser whose user is already signed in would.
await fetch(process.argv[2]);
