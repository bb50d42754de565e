// Entry of static/vendor/turndown/turndown.min.js (built by scripts/vendor-js.sh):
// HTML to Markdown, for switching a campaign's editor from HTML to Markdown.
export { default as TurndownService } from "turndown";
