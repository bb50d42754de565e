// Entry of static/vendor/codemirror/codemirror.min.js (built by scripts/vendor-js.sh):
// the CodeMirror 6 pieces static/js/editor.js uses, as one global.
export { EditorState, Compartment } from "@codemirror/state";
export {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  drawSelection, placeholder,
} from "@codemirror/view";
export { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
export {
  syntaxHighlighting, defaultHighlightStyle, bracketMatching, indentOnInput, foldGutter,
} from "@codemirror/language";
export { searchKeymap, highlightSelectionMatches } from "@codemirror/search";
export { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
export { lintGutter, setDiagnostics, lintKeymap } from "@codemirror/lint";
export { html } from "@codemirror/lang-html";
export { markdown } from "@codemirror/lang-markdown";
