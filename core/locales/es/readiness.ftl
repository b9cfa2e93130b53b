# La autoevaluación de preparación: áreas, preguntas y próximos pasos, como los lee quien dirige el programa.

readiness-answer-0 = No existe
readiness-answer-1 = En parte
readiness-answer-2 = Por completo

readiness-domain-leadership = Compromiso de la dirección
readiness-q-leadership-sponsor = Un directivo respalda el programa de apoyo y habla de él en público.
readiness-q-leadership-budget = El programa tiene presupuesto y tiempo protegido para su gente.
readiness-next-leadership = Pida a un directivo que respalde el programa y acuerde un presupuesto y tiempo protegido para los compañeros de apoyo.

readiness-domain-response-plan = El apoyo forma parte de la respuesta a eventos adversos
readiness-q-response-plan-trigger = Contactar al personal es un paso de la respuesta a un evento adverso, no algo que se deja para después.
readiness-q-response-plan-everyone = Se contacta a todas las personas involucradas, siempre, para que nadie se sienta señalado.
readiness-next-response-plan = Añada a la política de eventos adversos el contacto con todas las personas involucradas, con una persona responsable.

readiness-domain-whole-workforce = Programas para todo el personal
readiness-q-whole-workforce-professions = Médicos, enfermeras, farmacéuticos, otros profesionales de la salud y residentes pueden hablar con un compañero de formación parecida.
readiness-q-whole-workforce-support-staff = Se incluye al personal de apoyo (limpieza, traslado de pacientes, administración).
readiness-next-whole-workforce = Busque y forme compañeros de las profesiones y equipos que aún no encuentran a alguien parecido, también del personal de apoyo.

readiness-domain-publicity = El personal sabe cómo pedir ayuda
readiness-q-publicity-awareness = El personal sabe que el programa existe y cómo contactarlo a cualquier hora.
readiness-q-publicity-orientation = El personal nuevo y los residentes conocen el programa en su primera semana.
readiness-next-publicity = Dé a conocer el programa donde el personal mira a las 3 de la mañana: la intranet, tarjetas con la credencial, la bienvenida, las reuniones de la unidad.

readiness-domain-disclosure-support = Apoyo al comunicar un evento al paciente o la familia
readiness-q-disclosure-support-coaching = Los profesionales reciben orientación antes de una conversación para informar y pedir disculpas.
readiness-q-disclosure-support-after = Alguien habla con ellos después.
readiness-next-disclosure-support = Ofrezca orientación antes de la conversación y un contacto urgente después a todas las personas que participan.

readiness-domain-legal-guidance = Orientación legal sobre lo que se puede hablar
readiness-q-legal-guidance-privilege = El equipo legal ha dicho qué conversaciones son confidenciales por ley aquí, y está por escrito para el personal.
readiness-q-legal-guidance-litigation = El personal que enfrenta una reclamación o demanda puede recibir apoyo durante el proceso.
readiness-next-legal-guidance = Pida al equipo legal que deje por escrito qué conversaciones son confidenciales por ley donde están, y añada apoyo durante las demandas.

readiness-domain-trained-peers = Compañeros de apoyo formados
readiness-q-trained-peers-training = Los compañeros de apoyo completan su formación y la renuevan antes de que venza.
readiness-q-trained-peers-coverage = Hay suficientes compañeros formados para cada turno y cada sede.
readiness-next-trained-peers = Programe la formación y las renovaciones de los compañeros; cubra los turnos y sedes que faltan.

readiness-domain-professional-partnership = Trabajo conjunto con el programa de asistencia al empleado y salud mental
readiness-q-professional-partnership-referral = Derivar al programa de asistencia al empleado, a terapia o a capellanía es un solo paso y queda registrado.
readiness-q-professional-partnership-crisis = En una crisis se llega de inmediato a un profesional de guardia.
readiness-next-professional-partnership = Acuerde una vía de derivación y un contacto de guardia para crisis con el programa de asistencia al empleado y los servicios de salud mental.

readiness-domain-follow-up = Seguimiento
readiness-q-follow-up-schedule = Después del primer contacto se programan seguimientos (por ejemplo, al día, a la semana, al mes).
readiness-q-follow-up-milestones = Los momentos posteriores (revisión entre pares, demanda, declaración) vuelven a activar el contacto.
readiness-next-follow-up = Fije un calendario de seguimiento en el programa de compañeros y vuelva a contactar en los momentos posteriores.

readiness-domain-measurement = Medición
readiness-q-measurement-metrics = El uso, el tiempo hasta el primer contacto y las derivaciones se miden sin exponer a nadie.
readiness-q-measurement-feedback = Las personas que recibieron apoyo pueden opinar de forma anónima.
readiness-next-measurement = Revise cada trimestre con su directivo las cifras del programa y los resultados anónimos de la encuesta.
