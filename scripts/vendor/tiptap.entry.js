// Entry of static/vendor/tiptap/tiptap.min.js (built by scripts/vendor-js.sh):
// the TipTap editor, its starter kit (headings, lists, links, quotes...) and images.
export { Editor } from "@tiptap/core";
export { default as StarterKit } from "@tiptap/starter-kit";
export { default as Image } from "@tiptap/extension-image";
