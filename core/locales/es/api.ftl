# Los errores de la API tal como una aplicación asociada se los muestra a una persona. Los
# códigos (BAD_USER_INPUT, …) quedan en inglés para los programas; estas palabras siguen el idioma
# de quien llama.

api-title-unauthenticated = Hace falta iniciar sesión
api-title-forbidden = No permitido
api-title-not-found = No encontrado
api-title-bad-user-input = Solicitud no válida
api-title-conflict = Conflicto
api-title-limit-exceeded = Límite superado
api-title-rate-limited = Demasiadas solicitudes
api-title-unavailable = No disponible por el momento
api-title-internal = Error interno

api-error-unauthenticated = Vuelva a iniciar sesión: esta solicitud no traía una sesión válida.
api-error-forbidden = No tiene permiso para hacer esto.
api-error-not-found = No se encontró. Puede que se haya borrado o que usted no tenga permiso para verlo.
api-error-bad-user-input = Hay algo en la solicitud que no se puede usar. Revise lo que escribió.
api-error-bad-user-input-field = Revise «{ $field }»: lo que escribió ahí no se puede usar.
api-error-conflict = Esto cambió desde la última vez que lo vio. Vuelva a cargarlo e inténtelo de nuevo.
api-error-limit-exceeded = La solicitud es demasiado grande. Pida menos cada vez.
api-error-rate-limited = Demasiadas solicitudes en poco tiempo. Espere un momento e inténtelo de nuevo.
api-error-unavailable = El servicio no puede responder ahora. Inténtelo de nuevo en un momento.
api-error-internal = Algo falló de nuestro lado. Inténtelo de nuevo; si sigue pasando, comuníquese con el programa de apoyo.
