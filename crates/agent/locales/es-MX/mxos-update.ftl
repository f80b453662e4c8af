# mxos-update: todo lo que la herramienta del equipo le dice a una persona, en español de México.
# Cada id de aquí existe en en/mxos-update.ftl con las mismas variables (una prueba lo revisa).

## Resultados de las órdenes

initialized = Listo: este equipo seguirá { $refspec }. Ejecute `mxos-update upgrade` para instalar la primera versión.
up-to-date = El sistema está al día.
up-to-date-version = El sistema está al día ({ $version }).
update-available = Hay una actualización disponible: { $version }.
deployed = Actualización { $version } ({ $commit }) instalada y verificada; se usará al reiniciar. La versión anterior queda disponible para regresar.
rolled-back = Se regresó a la versión { $version }; se usará al reiniciar.
nothing-downloaded = no hay nada descargado que instalar; ejecute primero `mxos-update download`
health-nothing = No hay ninguna versión nueva en prueba.
health-passed = La versión { $commit } pasó las revisiones de salud.
health-rolled-back = La versión { $commit } falló las revisiones ({ $failures }); se regresa a la versión anterior.
health-fell-back = La versión { $commit } no logró arrancar; el equipo volvió a la versión anterior.
health-not-finalized = La actualización { $commit } no se instaló al apagar el equipo: ostree no pudo terminarla (vea `journalctl -b -1 -u ostree-finalize-staged`). Se sigue usando la versión { $running }; la próxima revisión de actualizaciones la instalará de nuevo.
health-failed = la versión nueva no pasó las revisiones de salud

## Errores y rechazos

error-line = error: { $message }
caused-by-line = {"  "}causa: { $message }
refused-headline = Actualización rechazada: no se pudo comprobar que viene de MxOS. El equipo conserva la versión que tenía.
refused-signature = el commit { $commit } no está firmado con una llave en la que este equipo confíe; no se instalará
refused-not-bootable = el commit { $commit } no está marcado como arrancable (ostree.bootable); no se instalará
refused-downgrade = el commit { $commit } ({ $version }) es anterior al instalado { $current } ({ $current_version }); no se regresa a una versión anterior (para eso, la flota publica el contenido viejo como un commit nuevo)
verify-unsigned = no se encontró ninguna firma ed25519 ({ $key })
verify-untrusted = ninguna de sus { $signatures } firma(s) ed25519 fue hecha con una llave de confianza (llave equivocada, o el contenido se modificó después de firmarlo)
verify-malformed = la firma ed25519 n.º { $index } tiene { $len } bytes; se esperaban 64
not-initialized = { $sysroot } no sigue ninguna referencia; ejecute primero `mxos-update init`
refspec-no-remote = la referencia seguida `{ $refspec }` no indica el remoto (se espera REMOTO:REF)
remote-no-key = el remoto `{ $remote }` no tiene verification-ed25519-key; no se instalan commits que nadie puede verificar
remote-key-invalid = la verification-ed25519-key del remoto `{ $remote }`
checking-remote = al revisar si el remoto tiene una versión nueva
summary-unsigned = el remoto `{ $remote }` no tiene summary.sig: su lista de versiones no está firmada, así que este equipo no la usa
summary-untrusted = el resumen (summary) del remoto `{ $remote }` no está firmado con una llave en la que este equipo confíe; no se usa
summary-unreadable = no se puede leer el resumen (summary) del remoto `{ $remote }`
summary-undated = el resumen (summary) del remoto `{ $remote }` no tiene { $key }, así que no se puede comprobar su antigüedad; se rechaza
summary-replayed = el resumen (summary) del remoto `{ $remote }` se hizo el { $made }, antes que el último que este equipo aceptó ({ $accepted }); se rechaza un resumen viejo (repetido)
summary-no-expiry = el resumen (summary) del remoto `{ $remote }` no tiene { $key }, así que podría repetirse para siempre; se rechaza (publique de nuevo con mxos-compose publish)
summary-expired = el resumen (summary) del remoto `{ $remote }` venció el { $expires } (ahora: { $now }); el servidor no ha publicado uno nuevo, así que este equipo no lo usa
summary-no-ref = el resumen (summary) firmado del remoto `{ $remote }` no incluye la referencia `{ $reference }`
refused-unbound = se rechazó el commit { $commit } para `{ $reference }`: no está ligado a ninguna colección, y esta máquina solo acepta commits de `{ $collection }`
refused-other-collection = se rechazó el commit { $commit }: pertenece a la colección `{ $found }`, y esta máquina sigue `{ $collection }`; quien lo entregó (un espejo, una memoria USB, otra máquina) no le está sirviendo MxOS para esta máquina
refused-other-ref = se rechazó el commit { $commit }: se publicó como `{ $found }`, no como `{ $reference }`, que es lo que pidió esta máquina
summary-commit-mismatch = el remoto `{ $remote }` envió el commit { $got } para `{ $reference }`, pero su resumen (summary) firmado indica { $expected }; no se usa
remote-conf-gpg-key-missing = { $source }: el remoto `{ $remote }` exige GPG (gpg-verify=true) pero no indica el archivo de la llave (`mxos-gpg-key=`)
reading-gpg-key = al leer la llave GPG del remoto { $path }
importing-gpg-key = al importar la llave GPG { $path } para el remoto `{ $remote }`
downloading-commit = al descargar el commit verificado
reading-followed-ref = al leer la referencia seguida
reading-file = al leer { $path }
writing-file = al escribir { $path }
installing-file = al instalar { $path }
creating-dir = al crear { $path }
listing-dir = al listar { $path }
state-unreadable = al leer { $path } (bórrelo para empezar de nuevo)
machine-id-empty = { $path } está vacío; systemd lo escribe en el primer arranque
asking-reboot = al pedir a systemd que reinicie
grubenv-bad-variable = la variable { $name } no se puede guardar en grubenv
grubenv-full = las variables de grubenv no caben en { $size } bytes
bad-reboot-option = --reboot: { $detail }

## La configuración publicada del remoto (mxos.conf)

remote-conf-key-invalid = la verification-ed25519-key de la configuración del remoto
remote-conf-two-remotes = { $source }:{ $line }: solo se admite un remoto por archivo
remote-conf-bad-group = { $source }:{ $line }: se esperaba un grupo `[remote "NOMBRE"]` y se encontró `{ $found }`
remote-conf-bad-line = { $source }:{ $line }: se esperaba `clave=valor` y se encontró `{ $found }`
remote-conf-key-outside = { $source }:{ $line }: `{ $key }` aparece antes de cualquier grupo `[remote "NOMBRE"]`
remote-conf-no-group = { $source }: no hay ningún grupo `[remote "NOMBRE"]`
remote-conf-no-url = { $source }: el remoto `{ $remote }` no tiene `url=`
remote-conf-no-key = { $source }: el remoto `{ $remote }` no tiene `verification-ed25519-key=`; MxOS solo instala commits firmados

## Fragmentos de configuración (update.d)

config-invalid-toml = TOML no válido: { $detail }
config-key-outside-table = la clave `{ $key }` debe ir dentro de una tabla; póngala bajo [{ $table }]
config-key-no-table = la clave `{ $key }` está fuera de toda tabla; tablas aceptadas: { $accepted }
config-did-you-mean = ¿quiso decir { $near }?
config-accepted = se acepta: { $accepted }
config-unknown-table = tabla desconocida [{ $table }]; { $hint }
config-not-a-table = [{ $table }] debe ser una tabla, se encontró { $found }
config-unknown-key = clave desconocida `{ $key }` en [{ $table }]; { $hint }
config-wrong-type = [{ $table }] { $key }: se esperaba { $expected } y se encontró { $found }; se acepta: { $accepted }
config-range = de { $min } a { $max }
config-out-of-range = [{ $table }] { $key } = { $value } está fuera de rango; se acepta: { $accepted }
config-channel-accepted = un canal como "mxos/10/x86_64/escuelas/estable", o "" para ninguno
config-bad-value = [{ $table }] { $key }: { $detail }
config-reboot-unknown = valor desconocido `{ $value }`; se acepta: { $accepted }
config-lan-accepted = una lista de URL http:// o https://, como ["http://servidor-escuela.local/mxos"]
config-usb-paths-accepted = rutas absolutas donde se montan las memorias, `*` para un nivel de directorio, como ["/run/media/*/*", "/media/*"]
config-bad-item = `{ $value }` no se acepta (cada uno a lo más una vez); se acepta: { $accepted }
kind-string = una cadena
kind-integer = un número entero
kind-float = un número con decimales
kind-boolean = un valor booleano
kind-datetime = una fecha y hora
kind-array = una lista
kind-table = una tabla

## Manifiestos de la flota y canales

manifest-unsigned = el manifiesto de la flota no está firmado (no tiene firma ed25519)
manifest-unknown-key = el manifiesto de la flota no está firmado con una llave de confianza (llave equivocada, o el manifiesto se modificó después de firmarlo)
manifest-invalid = el manifiesto de la flota no es válido: { $detail }
manifest-wrong-channel = el manifiesto de la flota es del canal { $found }, pero este equipo sigue { $expected }
manifest-replay = el manifiesto de la flota tiene el número de serie { $serial }, anterior al { $highest_seen } ya visto (se reenvió un manifiesto viejo)
manifest-expired = el manifiesto de la flota venció el { $expires } (ahora es { $now }); quien lo publica debe firmarlo de nuevo con una fecha de vencimiento posterior
manifest-unsigned-target = el commit destino del manifiesto de la flota no está firmado con una llave de confianza; no se actualizará a él
channel-paused = El canal { $channel } está en pausa; no se instalan actualizaciones nuevas.
channel-dead-end = Esta versión no tiene actualización automática: { $reason }
rollout-waiting = La actualización se está liberando por etapas ({ $percent_now } % de los equipos); este equipo entra al { $bucket_percent } %.

## El agente de actualizaciones (mxos-update run, status)

agent-idle = No hay actualizaciones pendientes.
agent-available = Actualización { $version } disponible; se descargará.
agent-check-only = Actualización { $version } disponible; las descargas automáticas están desactivadas ([updates] enabled = false).
agent-superseded = La actualización { $old } fue reemplazada por { $new }.
agent-downloaded = Actualización { $version } descargada; se instalará a continuación.
agent-download-failed = No se pudo descargar la actualización { $version }: { $reason }. Se volverá a intentar en la próxima revisión.
agent-stage-failed = No se pudo instalar la actualización { $version }: { $reason }. Se volverá a intentar en la próxima revisión.
agent-staged = Actualización { $version } instalada; se aplicará la próxima vez que se reinicie el equipo.
agent-waiting-for-window = Actualización { $version } instalada; se aplicará en la próxima ventana de reinicio.
agent-rebooting = Reiniciando para aplicar la actualización { $version }.
agent-blocked = Actualizaciones detenidas: { $reason }. Se volverá a revisar en el próximo ciclo.
agent-reboot-offline = Reinicio necesario para aplicar la actualización (no se reinicia un sysroot fuera de línea).
status-no-deployments = No hay ninguna versión instalada todavía.
status-default = predeterminada
status-rollback = anterior (para regresar)
status-booted = en uso
status-commit = commit:
status-sources = Fuentes de actualización:
status-source-line = { $bytes } bytes, usada por última vez: { $used }
status-source-error = se pasó por alto: { $error }

## Revisiones de salud

health-cannot-run = no se pudo ejecutar: { $error }
health-exit-status = código de salida: { $code }
health-killed = terminada por la señal { $signal }
health-timeout = no terminó en { $seconds } s

## Palabras fijas iguales en todos los idiomas (valores que acepta una clave)

literal = { $text }

## Líneas del registro con las decisiones del agente (journal)

downloaded = Se descargó el commit { $commit } desde { $source }.
sources-none-usable = no se pudo usar ninguna fuente de actualizaciones: { $list }
sources-download-failed = ninguna fuente pudo dar la actualización: { $list }
usb-manifest-expired = la memoria de actualización en { $drive } trae un manifiesto de la flota que venció el { $expires }; actualice la memoria con `mxos-compose usb` desde una copia vigente, o conecte el equipo a la red
usb-drive-expired = la memoria de actualización en { $drive } es demasiado vieja: su resumen firmado venció; actualice la memoria con `mxos-compose usb` desde una copia vigente, o conecte el equipo a la red
staged = Se instaló el commit { $commit } para el próximo arranque.
rebooting = Reiniciando para aplicar la actualización.

## Ayuda de la línea de órdenes (mxos-update --help y las páginas de manual)

cli-about = Actualizaciones atómicas y verificadas de MxOS
cli-after-help = Estado de salida: 0 si todo salió bien; 1 si la orden falló (el error dice por qué, con cada causa); 2 si la línea de órdenes no se entiende; 77 cuando `check` o `download` no encuentran ninguna actualización que tomar ahora.

    Idioma: los mensajes, los errores y esta ayuda siguen LC_ALL, LC_MESSAGES o LANG (es_MX.UTF-8 para español, inglés en otro caso).

    Registros: con systemd, al journal (journalctl -t mxos-update) con los campos MXOS_COMMIT, MXOS_CHANNEL y MESSAGE_ID; si no, a stderr. MXOS_LOG elige qué se registra (p. ej. MXOS_LOG=debug).

    --json imprime el resultado como un objeto JSON en stdout cuyo campo `schema` nombra su esquema (docs/json/).
cli-heading-usage = Uso:
cli-heading-commands = Órdenes
cli-heading-options = Opciones
cli-heading-arguments = Argumentos
cli-value-command = ORDEN
cli-arg-help = Muestra la ayuda
cli-arg-version = Muestra la versión
cli-arg-sysroot = El sysroot sobre el que se actúa (por omisión, el sistema en uso)
cli-arg-json = Imprime el resultado como JSON (un objeto en stdout)
cli-arg-verbose = Más detalle: -v muestra cada línea que imprimen los subprocesos, -vv todo
cli-arg-quiet = Solo advertencias y errores
cli-init = Prepara este equipo para seguir una referencia de un remoto publicado
cli-init-remote_conf = La configuración del remoto publicada con el repositorio (mxos.conf)
cli-init-reference = Referencia que se seguirá, p. ej. mxos/10/x86_64/demo
cli-status = Muestra las versiones instaladas y en qué va el agente de actualizaciones
cli-upgrade = Descarga, verifica e instala el commit más nuevo de la referencia seguida (sin manifiestos de flota)
cli-check = Pregunta al remoto (el manifiesto firmado del canal, o la referencia) qué debe usar este equipo
cli-check-from = Leer actualizaciones solo de este directorio (el directorio `mxos` de una memoria de actualización), no de la red
cli-check-after-help = Estado de salida: 0 cuando hay una actualización para este equipo ahora, 77 cuando no la hay (al día, en pausa, esperando su turno o rechazada), 1 cuando la revisión falló.
cli-download = Revisa y luego descarga el commit ofrecido sin instalarlo
cli-download-from = Leer actualizaciones solo de este directorio (el directorio `mxos` de una memoria de actualización), no de la red
cli-apply = Instala el commit descargado para el próximo arranque
cli-run = Un ciclo de actualización, como lo ejecuta el temporizador
cli-run-reboot = never | window | now (por omisión, el `reboot` de la configuración)
cli-run-from = Leer actualizaciones solo de este directorio (el directorio `mxos` de una memoria de actualización), no de la red
cli-health-check = Revisa la versión en prueba después de arrancar; regresa a la anterior si no está sana
cli-health-check-reboot = Reinicia en la versión anterior cuando las revisiones fallan
cli-rollback = Vuelve a hacer predeterminada la versión anterior
cli-install = Instala MxOS en el disco de este equipo desde la memoria USB de instalación (lo ejecuta mxos-install.service al arrancar la memoria)
cli-install-from = Carpeta con lo que instala la memoria


## El instalador de la memoria USB (mxos-update install)

install-step = [{ $n }/{ $total }] { $what }
install-verify = Verificando la firma de la versión que trae la memoria…
install-verified = La versión { $version } ({ $commit }) está firmada con una llave de confianza.
install-not-verified = la versión { $commit } de esta memoria no está firmada con una llave de confianza; no se instalará
install-not-gpg-signed = el servidor de esta memoria exige firmas GPG (gpg-verify=true) y la versión { $commit } no tiene una de su llave; no se instalará
install-choose = Eligiendo el disco…
install-chosen = Se instalará en { $disk }.
install-unfinished = { $disk } tiene una instalación de MxOS que no terminó (¿se apagó el equipo?); se empieza de nuevo.
install-wiping = { $disk } tiene datos ({ $found }); esta memoria se creó con --wipe: se borrarán.
install-refused-data = el disco { $disk } tiene datos ({ $found }); esta memoria no borra discos con datos. Para instalar sobre él, cree la memoria con `mxos-compose installer --wipe`, o use un disco vacío
install-partition = Creando las particiones (UEFI y BIOS)…
install-format = Creando el sistema de archivos…
install-copy = Copiando el sistema (tarda unos minutos)…
install-deploy = Instalando la versión, su remoto y la configuración de la escuela…
install-label = Etiquetando los archivos para SELinux…
install-boot = Instalando el arranque…
install-done = Listo: MxOS { $version } quedó instalado en { $disk } con el nombre «{ $hostname }». El equipo se apagará: retire la memoria y enciéndalo.
install-failed = NO SE INSTALÓ MXOS.
install-nothing-written = no se escribió nada en ningún disco
install-write-failed = la instalación en { $disk } quedó incompleta y ese disco no arrancará; vuelva a arrancar con la memoria para empezar de nuevo
install-bad-config = { $file }: { $message }
install-no-disk = no hay un disco interno de al menos { $min } donde instalar (discos vistos: { $disks }); conecte o elija un disco con --target-disk al crear la memoria
install-no-such-disk = la memoria dice que se instale en { $disk }, que este equipo no tiene (discos: { $disks })
install-disk-is-installer = { $disk } es la memoria del instalador; no se instala sobre ella
install-disk-read-only = el disco { $disk } es de solo lectura
install-disk-too-small = el disco { $disk } es demasiado chico: MxOS necesita al menos { $min }
install-hostname-placeholder = el patrón de nombre «{ $pattern }» usa «{ $found }»; se aceptan: { $accepted }
install-hostname-empty = el patrón de nombre «{ $pattern }» no deja ningún nombre válido (letras, números y guiones)
install-hostname-no-serial = el patrón de nombre «{ $pattern }» necesita el número de serie del equipo o la dirección de su tarjeta de red, y este equipo no da ninguno

## El sysroot del equipo

not-a-sysroot = { $path } no es un sysroot de OSTree (no tiene ostree/repo); prepárelo con `mxos-update init`
opening-sysroot = al abrir el sysroot { $path }
no-rollback-target = no hay una versión anterior a la cual regresar (este equipo tiene { $count })
rolling-back = al hacer predeterminada la versión anterior
deploying = al instalar el commit { $commit }

## Líneas de órdenes que no se entienden (estado de salida 2)

usage-unknown-command = orden desconocida '{ $command }'
usage-unknown-argument = argumento inesperado '{ $argument }'
usage-missing-argument = falta un argumento obligatorio: { $argument }
usage-missing-command = falta la orden
usage-invalid-value = valor no válido '{ $value }' para { $argument }
usage-other = { $detail }
usage-did-you-mean = ¿quiso decir '{ $suggestion }'?
usage-more-help = Para más información, ejecute `mxos-update --help`.

## Nombres de las secciones de las páginas de manual

man-name = NOMBRE
man-synopsis = SINOPSIS
man-description = DESCRIPCIÓN
man-options = OPCIONES
man-subcommands = ÓRDENES
man-version = VERSIÓN
man-extra = NOTAS

## Lo que falló debajo del agente: los pasos de libostree y las causas de red y de disco.
step-init-sysroot = al preparar el sysroot { $path }
step-load-sysroot = al leer el sysroot { $path }
step-create-stateroot = al crear el stateroot `{ $stateroot }`
sysroot-locked = ya hay otra actualización en curso en { $path } (el candado del sysroot está tomado); intente de nuevo cuando termine
step-fetch-summary = al descargar el índice firmado (summary) del remoto `{ $remote }`
step-import-gpg-keys = al importar las llaves GPG del remoto `{ $remote }`
step-pull = al descargar { $refs } de { $source }
step-stage = al preparar { $commit } para el siguiente arranque
step-deploy = al instalar { $commit }
step-write-boot-order = al escribir el nuevo orden de arranque
step-clean-up = al limpiar las instalaciones anteriores
# La etiqueta de la barra de progreso, y la línea que deja al terminar la descarga.
step-download = descargando la actualización
# La explicación primero; el texto original (en inglés) entre paréntesis, para buscarlo.
cause-explained = { $explanation } ({ $original })
cause-host-not-found = no se encontró el nombre del servidor: revise que el equipo esté conectado a la red
cause-connection-refused = nadie responde en la dirección del servidor: revise que el servidor de actualizaciones esté encendido y que la dirección sea correcta
cause-timed-out = el servidor tardó demasiado en responder: la red está lenta o caída; el siguiente intento lo volverá a probar
cause-not-on-server = el servidor no tiene ese archivo: la dirección puede estar mal, o el espejo se está copiando
cause-disk-full = el disco está lleno: libere espacio (archivos viejos en /var) e intente de nuevo
cause-permission-denied = permiso denegado: ejecute la orden como root (administrador)
cause-read-only = el sistema de archivos es de solo lectura: el disco puede estar dañado; pida ayuda técnica
cause-wrong-binding = el servidor entregó un commit de otra colección o de otra rama (otra distribución, o un espejo que mezcla repositorios): este equipo no lo instala y sigue con lo que tiene; avise a su administrador
