// `nokube completion bash|zsh`: shell completion scripts generated from the CLI's flag table.
import { COMMANDS, COMMAND_WORDS, FLAGS } from './args';

const flagsOf = (command: string) =>
  FLAGS.filter((f) => f.commands.includes(command as (typeof COMMANDS)[number])).map((f) => `--${f.name}`);

export function bashCompletion(): string {
  const cases = COMMANDS.map((c) => `      ${c}) flags="${flagsOf(c).join(' ')}" ;;`).join('\n');
  const fileFlags = FLAGS.filter((f) => f.file)
    .map((f) => `--${f.name}`)
    .join('|');
  return `# bash completion for nokube: source <(nokube completion bash)
_nokube() {
  local cur prev flags
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    ${fileFlags}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "ray completion --help --version" -- "$cur")); return
  fi
  if [ "\${COMP_WORDS[1]}" = completion ]; then
    COMPREPLY=($(compgen -W "bash zsh" -- "$cur")); return
  fi
  if [ "$COMP_CWORD" -eq 2 ]; then
    COMPREPLY=($(compgen -W "${COMMANDS.join(' ')}" -- "$cur")); return
  fi
  case "\${COMP_WORDS[2]}" in
${cases}
      *) flags="" ;;
  esac
  COMPREPLY=($(compgen -W "$flags" -- "$cur"))
}
complete -F _nokube nokube
`;
}

export function zshCompletion(): string {
  const commands = COMMANDS.map((c) => `    '${c}:${COMMAND_WORDS[c].replace(/'/g, "'\\''")}'`).join('\n');
  const cases = COMMANDS.map((c) => {
    const specs = FLAGS.filter((f) => f.commands.includes(c)).map((f) => {
      const help = f.help.replace(/[[\]']/g, ' ').replace(/:/g, '\\:');
      const value = f.value ? `:${f.value}:${f.file ? '_files' : ' '}` : '';
      return `        '${f.multiple ? '*' : ''}--${f.name}[${help}]${value}'`;
    });
    return `      ${c})\n        _arguments \\\n${specs.join(' \\\n')}\n        ;;`;
  }).join('\n');
  return `#compdef nokube
# zsh completion for nokube: nokube completion zsh > "\${fpath[1]}/_nokube"
_nokube() {
  local -a commands
  commands=(
${commands}
  )
  if (( CURRENT == 2 )); then
    _values 'nokube' ray completion --help --version; return
  fi
  if [[ $words[2] == completion ]]; then
    _values 'shell' bash zsh; return
  fi
  if (( CURRENT == 3 )); then
    _describe 'command' commands; return
  fi
  shift 2 words; (( CURRENT -= 2 ))
  case $words[1] in
${cases}
  esac
}
_nokube "$@"
`;
}
